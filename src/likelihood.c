/* Likelihood of the softmax-contaminated mixture of experts.
 *
 *   p(y | x) = pi_0(x) f0(y | x) + sum_k pi_k(x) N(y | h(eta_k'x), nu_k),
 *   pi_k(x)  = exp(g_k) / (1 + sum_l exp(g_l)),  g_k = beta_k'xg + tau_k,
 *
 * with the pre-trained expert as reference class (g_0 = 0). Everything is
 * computed in log space: log p = lse(a_0..a_K) - lse(0, g_1..g_K) with
 * a_0 = log f0 and a_k = g_k + log N(y | mu_k, nu_k), so a prompt variance of
 * 1e-3 and residuals of any size never underflow. */
#include "contamoe.h"

#define LOG_2PI 1.837877066409345483560659472811

/* Scratch needed by cm_loglik: index and gate predictors (2 n K) and small
 * per-observation vectors. */
size_t cm_work_size(const cm_data *d)
{
    size_t K = d->K, m = cm_block(d);
    return 2 * (size_t) d->n * K + 4 * (K + 1) + K * m + 6 * K;
}

/* u (n x K): u[, k] = xe eta_k; g (n x K): g[, k] = xg beta_k + tau_k. */
void cm_linear_predictors(const cm_data *d, const double *theta, double *u, double *g)
{
    int n = d->n, m = cm_block(d), one = 1;
    double zero = 0.0, onef = 1.0;
    for (int k = 0; k < d->K; k++) {
        const double *blk = theta + (size_t) k * m;
        double *uk = u + (size_t) k * n, *gk = g + (size_t) k * n;
        if (d->q > 0)
            F77_CALL(dgemv)("N", &n, &d->q, &onef, d->xe, &n, blk + d->pg + 1, &one, &zero,
                            uk, &one FCONE);
        else
            for (int i = 0; i < n; i++) uk[i] = 0.0;
        if (d->pg > 0)
            F77_CALL(dgemv)("N", &n, &d->pg, &onef, d->xg, &n, blk, &one, &zero, gk,
                            &one FCONE);
        else
            for (int i = 0; i < n; i++) gk[i] = 0.0;
        double tau = blk[d->pg];
        for (int i = 0; i < n; i++) gk[i] += tau;
    }
}

/* Log-likelihood at theta and, when the pointers are non-NULL, the posterior
 * responsibilities resp (n x (K+1), column 0 the pre-trained expert), the
 * score (p) and the Hessian (p x p) with respect to theta.
 * work: at least cm_work_size(d) doubles. Returns CM_OK or CM_NONFINITE. */
int cm_loglik(const cm_data *d, const double *theta, double *ll, double *resp,
              double *score, double *hess, double *work)
{
    const int n = d->n, K = d->K, q = d->q, pg = d->pg, m = cm_block(d), p = cm_npar(d);
    const int zg = pg + 1; /* gate design incl. the intercept */
    double *u = work, *g = u + (size_t) n * K;
    double *a = g + (size_t) n * K, *gl = a + K + 1, *r = gl + K + 1, *pr = r + K + 1;
    double *v = pr + K + 1, *res = v + (size_t) K * m, *dh = res + K, *d2h = dh + K;
    double *nu = d2h + K, *lnu = nu + K, *lnorm = lnu + K;

    cm_linear_predictors(d, theta, u, g);
    for (int k = 0; k < K; k++) {
        lnu[k] = theta[(size_t) k * m + m - 1];
        nu[k] = exp(lnu[k]);
        lnorm[k] = -0.5 * (LOG_2PI + lnu[k]);
    }
    if (score) memset(score, 0, sizeof(double) * p);
    if (hess) memset(hess, 0, sizeof(double) * (size_t) p * p);

    double total = 0.0;
    for (int i = 0; i < n; i++) {
        a[0] = d->lf0[i];
        gl[0] = 0.0;
        for (int k = 0; k < K; k++) {
            double h;
            cm_mean_eval(d->mean, u[(size_t) k * n + i], &h, dh + k, d2h + k);
            res[k] = d->y[i] - h;
            gl[k + 1] = g[(size_t) k * n + i];
            a[k + 1] = gl[k + 1] + lnorm[k] - 0.5 * res[k] * res[k] / nu[k];
        }
        double la = cm_logsumexp(a, K + 1), lg = cm_logsumexp(gl, K + 1);
        total += la - lg;
        if (!R_FINITE(la) || !R_FINITE(lg)) {
            if (resp)
                for (int k = 0; k <= K; k++) resp[(size_t) k * n + i] = R_NaN;
            continue;
        }
        if (resp)
            for (int k = 0; k <= K; k++) resp[(size_t) k * n + i] = exp(a[k] - la);
        if (!score && !hess) continue;

        /* v_k: gradient of a_k with respect to block k */
        for (int k = 0; k < K; k++) {
            double *vk = v + (size_t) k * m, e = res[k] / nu[k] * dh[k];
            r[k] = exp(a[k + 1] - la);
            pr[k] = exp(gl[k + 1] - lg);
            for (int j = 0; j < pg; j++) vk[j] = d->xg[(size_t) j * n + i];
            vk[pg] = 1.0;
            for (int j = 0; j < q; j++) vk[zg + j] = e * d->xe[(size_t) j * n + i];
            vk[m - 1] = -0.5 + 0.5 * res[k] * res[k] / nu[k];
        }
        if (score)
            for (int k = 0; k < K; k++) {
                double *sk = score + (size_t) k * m, *vk = v + (size_t) k * m;
                for (int j = 0; j < m; j++) sk[j] += r[k] * vk[j];
                for (int j = 0; j < zg; j++) sk[j] -= pr[k] * vk[j];
            }
        if (!hess) continue;
        /* Hessian = sum_kl (delta_kl r_k - r_k r_l) v_k v_l'
         *         - sum_kl (delta_kl pi_k - pi_k pi_l) z z'  (gate rows/cols)
         *         + sum_k r_k d2 a_k;  upper triangle only, mirrored below. */
        for (int l = 0; l < K; l++) {
            const double *vl = v + (size_t) l * m;
            for (int k = 0; k <= l; k++) {
                const double *vk = v + (size_t) k * m;
                double w = (k == l ? r[k] : 0.0) - r[k] * r[l];
                double wg = (k == l ? pr[k] : 0.0) - pr[k] * pr[l];
                for (int b = 0; b < m; b++) {
                    double *col = hess + ((size_t) l * m + b) * p + (size_t) k * m;
                    int amax = k == l ? b + 1 : m;
                    double wb = w * vl[b];
                    for (int aa = 0; aa < amax; aa++) col[aa] += wb * vk[aa];
                    if (b < zg) {
                        double wgb = wg * vl[b];
                        int gmax = amax < zg ? amax : zg;
                        for (int aa = 0; aa < gmax; aa++) col[aa] -= wgb * vk[aa];
                    }
                }
            }
        }
        for (int k = 0; k < K; k++) {
            /* second derivatives of log N(y | h(eta'x), exp(lnu)) within block k */
            double cee = r[k] * (res[k] * d2h[k] - dh[k] * dh[k]) / nu[k];
            double cel = -r[k] * res[k] * dh[k] / nu[k];
            double cll = -r[k] * 0.5 * res[k] * res[k] / nu[k];
            size_t off = (size_t) k * m + zg;
            for (int b = 0; b < q; b++) {
                double xb = d->xe[(size_t) b * n + i];
                double *col = hess + (off + b) * p + off;
                for (int aa = 0; aa <= b; aa++) col[aa] += cee * d->xe[(size_t) aa * n + i] * xb;
            }
            double *lcol = hess + (off + q) * p + off;
            for (int aa = 0; aa < q; aa++) lcol[aa] += cel * d->xe[(size_t) aa * n + i];
            lcol[q] += cll;
        }
    }
    *ll = total;
    if (hess)
        for (int b = 0; b < p; b++)
            for (int aa = 0; aa < b; aa++) hess[(size_t) aa * p + b] = hess[(size_t) b * p + aa];
    return R_FINITE(total) ? CM_OK : CM_NONFINITE;
}

/* Has the gate run off? True when, for some prompt k, the gate's linear
 * predictor g_k = xg beta_k + tau_k exceeds bound in absolute value at every
 * observation (the prompt is certain or impossible against the pre-trained
 * expert everywhere), or exceeds 50 bound at some observation (a logit no
 * finite maximiser needs): the likelihood then has no finite maximiser in
 * reach. Both are invariant to shifts and scalings of the covariates, unlike
 * a bound on the coefficients. g: n scratch. */
int cm_gate_runaway(const cm_data *d, const double *theta, double bound, double *g)
{
    int n = d->n, one = 1;
    double zero = 0.0, onef = 1.0;
    for (int k = 0; k < d->K; k++) {
        const double *blk = theta + (size_t) k * cm_block(d);
        if (d->pg > 0)
            F77_CALL(dgemv)("N", &n, &d->pg, &onef, d->xg, &n, blk, &one, &zero, g, &one FCONE);
        else
            memset(g, 0, sizeof(double) * n);
        double gmin = R_PosInf, gmax = 0.0;
        for (int i = 0; i < n; i++) {
            double a = fabs(g[i] + blk[d->pg]);
            gmin = fmin2(gmin, a);
            gmax = fmax2(gmax, a);
        }
        if (gmin > bound || gmax > 50.0 * bound) return 1;
    }
    return 0;
}

/* Solve (A + lambda I) x = b for symmetric A after equilibrating it to unit
 * diagonal (so that badly scaled parameters do not spoil the solve or the
 * ridge), with lambda = 0 first and then growing from ridge_start until the
 * equilibrated matrix plus lambda I is positive definite. a (p x p) is
 * preserved; fac (p x p + p) is scratch; b is overwritten with x.
 * Returns CM_OK or CM_SINGULAR; *ridge receives lambda. */
int cm_chol_solve(int p, const double *a, double *b, double *fac, double ridge_start,
                  double *ridge)
{
    double *s = fac + (size_t) p * p;
    for (int j = 0; j < p; j++) {
        double djj = fabs(a[(size_t) j * p + j]);
        if (!R_FINITE(djj)) return CM_SINGULAR;
        s[j] = djj > 0.0 ? 1.0 / sqrt(djj) : 1.0;
    }
    for (int j = 0; j < p; j++) b[j] *= s[j];
    double lambda = 0.0;
    for (int attempt = 0; attempt < 40; attempt++) {
        for (int j = 0; j < p; j++)
            for (int i = 0; i <= j; i++)
                fac[(size_t) j * p + i] = s[i] * a[(size_t) j * p + i] * s[j];
        for (int j = 0; j < p; j++) fac[(size_t) j * p + j] += lambda;
        int info = 0, one = 1;
        F77_CALL(dpotrf)("U", &p, fac, &p, &info FCONE);
        if (info == 0) {
            F77_CALL(dpotrs)("U", &p, &one, fac, &p, b, &p, &info FCONE);
            if (info != 0) return CM_SINGULAR;
            for (int j = 0; j < p; j++) b[j] *= s[j];
            *ridge = lambda;
            return CM_OK;
        }
        lambda = lambda == 0.0 ? ridge_start : 10.0 * lambda;
    }
    return CM_SINGULAR;
}

/* ---- .Call boundary --------------------------------------------------- */

static void check_real_matrix(SEXP x, const char *name, int nrow)
{
    if (!Rf_isReal(x) || !Rf_isMatrix(x)) Rf_error("`%s` must be a double matrix", name);
    if (Rf_nrows(x) != nrow) Rf_error("`%s` must have %d rows, not %d", name, nrow, Rf_nrows(x));
}

/* Check and unpack the data arguments shared by every fitting entry point. */
void cm_unpack_data(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, cm_data *d)
{
    if (!Rf_isReal(y)) Rf_error("`y` must be a double vector");
    if (XLENGTH(y) < 1 || XLENGTH(y) > INT_MAX) Rf_error("`y` has an unsupported length");
    int n = (int) XLENGTH(y);
    check_real_matrix(xe, "xe", n);
    check_real_matrix(xg, "xg", n);
    if (!Rf_isReal(lf0) || XLENGTH(lf0) != n) Rf_error("`lf0` must be a double vector of length %d", n);
    if (!Rf_isInteger(K) || XLENGTH(K) != 1 || INTEGER(K)[0] < 1 || INTEGER(K)[0] > 1000)
        Rf_error("`K` must be one integer between 1 and 1000");
    if (!Rf_isInteger(mean) || XLENGTH(mean) != 1 || INTEGER(mean)[0] < CM_LINEAR ||
        INTEGER(mean)[0] > CM_RELU)
        Rf_error("`mean` must be one known integer code");
    d->n = n;
    d->q = Rf_ncols(xe);
    d->pg = Rf_ncols(xg);
    d->K = INTEGER(K)[0];
    d->mean = INTEGER(mean)[0];
    d->y = REAL(y);
    d->xe = REAL(xe);
    d->xg = REAL(xg);
    d->lf0 = REAL(lf0);
}

void cm_unpack_theta(SEXP theta, const cm_data *d)
{
    if (!Rf_isReal(theta) || XLENGTH(theta) != cm_npar(d))
        Rf_error("`theta` must be a double vector of length %d", cm_npar(d));
    for (int j = 0; j < cm_npar(d); j++)
        if (!R_FINITE(REAL(theta)[j])) Rf_error("`theta` must be finite");
}

/* .Call entry: log-likelihood, responsibilities, score and Hessian. */
SEXP cm_loglik_call(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                    SEXP deriv)
{
    cm_data d;
    cm_unpack_data(y, xe, xg, lf0, K, mean, &d);
    cm_unpack_theta(theta, &d);
    if (!Rf_isInteger(deriv) || XLENGTH(deriv) != 1 || INTEGER(deriv)[0] < 0 ||
        INTEGER(deriv)[0] > 2)
        Rf_error("`deriv` must be 0, 1 or 2");
    int level = INTEGER(deriv)[0], p = cm_npar(&d), nprot = 0;
    const char *names[] = {"loglik", "resp", "score", "hessian", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names)); nprot++;
    SEXP ll = PROTECT(Rf_allocVector(REALSXP, 1)); nprot++;
    SEXP resp = PROTECT(Rf_allocMatrix(REALSXP, d.n, d.K + 1)); nprot++;
    SEXP score = R_NilValue, hess = R_NilValue;
    if (level >= 1) { score = PROTECT(Rf_allocVector(REALSXP, p)); nprot++; }
    if (level >= 2) { hess = PROTECT(Rf_allocMatrix(REALSXP, p, p)); nprot++; }
    double *work = (double *) R_alloc(cm_work_size(&d), sizeof(double));
    cm_loglik(&d, REAL(theta), REAL(ll), REAL(resp), level >= 1 ? REAL(score) : NULL,
              level >= 2 ? REAL(hess) : NULL, work);
    SET_VECTOR_ELT(out, 0, ll);
    SET_VECTOR_ELT(out, 1, resp);
    SET_VECTOR_ELT(out, 2, score);
    SET_VECTOR_ELT(out, 3, hess);
    UNPROTECT(nprot);
    return out;
}
