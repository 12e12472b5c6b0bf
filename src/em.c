/* EM for the softmax-contaminated mixture of experts.
 *
 * E-step: posterior responsibilities (cm_loglik). M-step, with the
 * responsibilities fixed: (1) the gate by Newton on the weighted multinomial
 * log-likelihood, (2) each eta_k by Gauss-Newton on the weighted squared
 * residuals, (3) each nu_k in closed form. Every inner step is accepted only
 * if it does not worsen its objective (step halving), so each M-step raises
 * the expected complete-data log-likelihood and the observed log-likelihood
 * never decreases. */
#include "contamoe.h"

static int gate_npar(const cm_data *d) { return d->K * (d->pg + 1); }
static int max_sys(const cm_data *d) { return imax2(gate_npar(d), d->q); }

/* Chunk vectors of the M-step (CM_CHUNK rows each): ones, then the gate's
 * probabilities (K), row sums, weights and kernel scratch, or the prompt
 * mean's h, h', two weights and kernel scratch. */
static size_t mstep_chunk_vecs(int K) { return K + 4 > 6 ? (size_t) K + 4 : 6; }

/* k rounded up to whole cache lines of doubles */
static size_t pad8(size_t k) { return (k + 7) & ~(size_t) 7; }

size_t cm_mstep_work_size(const cm_data *d)
{
    size_t n = d->n, P = max_sys(d);
    return mstep_chunk_vecs(d->K) * CM_CHUNK + pad8(n * d->K) + 2 * pad8(n) + 3 * P * P + 4 * P +
           d->K + 1 + (size_t) cm_npar(d) + CM_ALIGN_SLACK;
}

/* K = 1 rows of the gate objective, one vectorised loop: the posterior
 * weights r0 (pre-trained) and r1 (prompt), the logit g; leaves the row sums
 * r0 + r1 in w and the gate probabilities in pr, and returns the chunk's
 * sum_i r1 g - (r0 + r1) lse(0, g). */
CM_KERNEL static double gate_rows_one(int B, const double *r0, const double *r1,
                                      const double *g, double *w, double *pr)
{
    double Q = 0.0;
#pragma omp simd reduction(+ : Q)
    for (int i = 0; i < B; i++) {
        double e = cm_exp_neg(-fabs(g[i])), rsum = r0[i] + r1[i];
        double lg = cm_if_neg(-g[i], g[i], 0.0) + cm_log1p_unit(e);
        Q += r1[i] * g[i] - rsum * lg;
        w[i] = rsum;
        pr[i] = cm_if_neg(-g[i], 1.0, e) / (1.0 + e);
    }
    return Q;
}

/* Weighted multinomial log-likelihood of the gate,
 *   Q = sum_i [ sum_k r_ik g_ik - (sum_{k>=0} r_ik) lse(0, g_i1..g_iK) ],
 * and, when grad is non-NULL, its gradient and negative Hessian over the gate
 * parameters ordered (beta_1, tau_1, ..., beta_K, tau_K), accumulated over
 * chunks of rows as weighted cross products of the gate columns.
 * g: n x K scratch; pk: K + 1 scratch; cs: the chunk vectors, ones first. */
static double gate_objective(const cm_data *d, const double *resp, const double *theta,
                             double *g, double *grad, double *negH, double *pk, double *cs)
{
    const int n = d->n, K = d->K, pg = d->pg, zg = pg + 1, m = cm_block(d), P = gate_npar(d);
    double *ones = cs, *pr = ones + CM_CHUNK, *w = pr + (size_t) K * CM_CHUNK;
    double *c = w + CM_CHUNK, *tmp = c + CM_CHUNK;
    const double **colz = d->cols;
    const double *colone[1] = {ones};
    for (int k = 0; k < K; k++) {
        const double *blk = theta + (size_t) k * m;
        cm_xprod(d->xg, pg, 0, n, blk, blk[pg], g + (size_t) k * n);
    }
    if (grad) {
        memset(grad, 0, sizeof(double) * P);
        memset(negH, 0, sizeof(double) * (size_t) P * P);
    }
    double Q = 0.0;
    for (int i0 = 0; i0 < n; i0 += CM_CHUNK) {
        const int B = cm_chunk_len(n, i0);
        if (K == 1) {
            Q += gate_rows_one(B, resp + i0, resp + n + i0, g + i0, w, pr);
        } else {
            for (int ii = 0; ii < B; ii++) {
                const int i = i0 + ii;
                double rsum = resp[i];
                pk[0] = 0.0;
                for (int k = 0; k < K; k++) {
                    pk[k + 1] = g[(size_t) k * n + i];
                    double rk = resp[(size_t) (k + 1) * n + i];
                    rsum += rk;
                    Q += rk * pk[k + 1];
                }
                double lg = cm_logsumexp(pk, K + 1);
                Q -= rsum * lg;
                w[ii] = rsum;
                for (int k = 0; k < K; k++)
                    pr[(size_t) k * CM_CHUNK + ii] = cm_exp_neg(pk[k + 1] - lg);
            }
        }
        if (!grad) continue;
        for (int j = 0; j < pg; j++) colz[j] = d->xg[j] + i0;
        colz[pg] = ones;
        for (int l = 0; l < K; l++) {
            const double *rl = resp + (size_t) (l + 1) * n + i0, *pl = pr + (size_t) l * CM_CHUNK;
            for (int ii = 0; ii < B; ii++) c[ii] = rl[ii] - w[ii] * pl[ii];
            cm_acc_cross(B, c, colz, zg, colone, 1, 0, grad, P, l * zg, 0, tmp);
            for (int k = 0; k <= l; k++) {
                const double *pkk = pr + (size_t) k * CM_CHUNK;
                for (int ii = 0; ii < B; ii++)
                    c[ii] = w[ii] * ((k == l ? pkk[ii] : 0.0) - pkk[ii] * pl[ii]);
                cm_acc_cross(B, c, colz, zg, colz, zg, k == l, negH, P, k * zg, l * zg, tmp);
            }
        }
    }
    if (grad) cm_mirror_upper(P, negH);
    return Q;
}

/* Trial point: theta's gate parameters = base's + t * step (step in the
 * compact gate order of gate_objective). */
static void gate_axpy(const cm_data *d, double *theta, const double *base, const double *step,
                      double t)
{
    const int zg = d->pg + 1, m = cm_block(d);
    for (int k = 0; k < d->K; k++)
        for (int j = 0; j < zg; j++)
            theta[(size_t) k * m + j] = base[(size_t) k * m + j] + t * step[k * zg + j];
}

/* Newton iterations with step halving on the gate objective. The full step
 * is evaluated with its derivatives, which serve the next iteration when it
 * is taken (as it usually is): one pass over the data per iteration. */
static void gate_update(const cm_data *d, const double *resp, double *theta,
                        const cm_control *ctl, double *g, double *sys, double *trial, double *cs)
{
    const int P = gate_npar(d), p = cm_npar(d);
    double *negH = sys, *fac = negH + (size_t) P * P, *grad = fac + (size_t) P * P + P;
    double *step = grad + P, *pk = step + P, *tnegH = pk + d->K + 1;
    double *tgrad = tnegH + (size_t) P * P, ridge, *swap;
    double Q = gate_objective(d, resp, theta, g, grad, negH, pk, cs);
    for (int it = 0; it < ctl->inner_maxit; it++) {
        memcpy(step, grad, sizeof(double) * P);
        if (cm_chol_solve(P, negH, step, fac, 1e-10, &ridge) != CM_OK) return;
        double Qn = R_NegInf, t = 1.0;
        int half;
        memcpy(trial, theta, sizeof(double) * p);
        for (half = 0; half < 30; half++, t *= 0.5) {
            gate_axpy(d, trial, theta, step, t);
            Qn = gate_objective(d, resp, trial, g, half ? NULL : tgrad, half ? NULL : tnegH, pk,
                                cs);
            if (R_FINITE(Qn) && Qn >= Q) break;
        }
        if (!(R_FINITE(Qn) && Qn >= Q)) return;
        memcpy(theta, trial, sizeof(double) * p);
        double gain = Qn - Q;
        Q = Qn;
        if (gain <= ctl->tol * (fabs(Q) + 1.0)) return;
        if (half == 0) {
            swap = grad; grad = tgrad; tgrad = swap;
            swap = negH; negH = tnegH; tnegH = swap;
        } else {
            gate_objective(d, resp, theta, g, grad, negH, pk, cs);
        }
    }
}

/* Weighted squared residuals S = sum_i w_i (y_i - h(eta'x_i))^2 at eta, the
 * index u = xe eta left in u; with A non-NULL also the Gauss-Newton system
 * at eta, A = sum_i w_i h'^2 x_i x_i' and b = sum_i w_i h' (y_i - h) x_i,
 * accumulated over chunks of rows as weighted cross products of the expert
 * columns. cs: the chunk vectors, ones first. */
static double eta_objective(const cm_data *d, const double *w, const double *eta, double *u,
                            double *A, double *b, double *cs)
{
    const int n = d->n, q = d->q;
    double *ones = cs, *h = ones + CM_CHUNK, *dh = h + CM_CHUNK, *ca = dh + CM_CHUNK;
    double *cb = ca + CM_CHUNK, *tmp = cb + CM_CHUNK, S = 0.0;
    const double **cole = d->cols;
    const double *colone[1] = {ones};
    if (A) {
        memset(A, 0, sizeof(double) * (size_t) q * q);
        memset(b, 0, sizeof(double) * q);
    }
    cm_xprod(d->xe, q, 0, n, eta, 0.0, u);
    for (int i0 = 0; i0 < n; i0 += CM_CHUNK) {
        const int B = cm_chunk_len(n, i0);
        const double *y = d->y + i0, *wi = w + i0;
        cm_mean_array(d->mean, B, u + i0, h, dh, NULL);
#pragma omp simd reduction(+ : S)
        for (int i = 0; i < B; i++) S += wi[i] * (y[i] - h[i]) * (y[i] - h[i]);
        if (!A) continue;
#pragma omp simd
        for (int i = 0; i < B; i++) {
            ca[i] = wi[i] * dh[i] * dh[i];
            cb[i] = wi[i] * dh[i] * (y[i] - h[i]);
        }
        for (int c = 0; c < q; c++) cole[c] = d->xe[c] + i0;
        cm_acc_cross(B, ca, cole, q, cole, q, 1, A, q, 0, 0, tmp);
        cm_acc_cross(B, cb, cole, q, colone, 1, 0, b, q, 0, 0, tmp);
    }
    if (A) cm_mirror_upper(q, A);
    return S;
}

/* Gauss-Newton with step halving for eta_k, then nu_k in closed form; as in
 * gate_update(), the full step carries the system of the next iteration.
 * blk: the parameter block of prompt k; w: its responsibilities; u, ut: n
 * scratch each; cs: the chunk vectors. */
static void expert_update(const cm_data *d, const double *w, double *blk, const cm_control *ctl,
                          double *u, double *ut, double *sys, double *cs)
{
    const int n = d->n, q = d->q;
    double *eta = blk + d->pg + 1, *A = sys, *fac = A + (size_t) q * q;
    double *b = fac + (size_t) q * q + q, *trial = b + q, *tA = trial + q;
    double *tb = tA + (size_t) q * q, wsum = 0.0, ridge, *swap;
    for (int i = 0; i < n; i++) wsum += w[i];
    if (!(wsum > 0.0)) return; /* a prompt without mass keeps its parameters */

    if (q > 0) {
        double S = eta_objective(d, w, eta, u, A, b, cs);
        for (int it = 0; it < ctl->inner_maxit; it++) {
            if (cm_chol_solve(q, A, b, fac, 1e-10, &ridge) != CM_OK) break; /* b: the step */
            double St = R_PosInf, t = 1.0;
            int half;
            for (half = 0; half < 30; half++, t *= 0.5) {
                for (int c = 0; c < q; c++) trial[c] = eta[c] + t * b[c];
                St = eta_objective(d, w, trial, ut, half ? NULL : tA, half ? NULL : tb, cs);
                if (St <= S) break;
            }
            if (!(St <= S)) break;
            memcpy(eta, trial, sizeof(double) * q);
            swap = u; u = ut; ut = swap;
            double gain = S - St;
            S = St;
            if (gain <= ctl->tol * (S + 1e-300)) break;
            if (half == 0) {
                swap = A; A = tA; tA = swap;
                swap = b; b = tb; tb = swap;
            } else {
                eta_objective(d, w, eta, u, A, b, cs);
            }
        }
        double nu = S / wsum;
        blk[cm_block(d) - 1] = fmax2(log(nu), ctl->lognu_min);
    } else {
        double S = 0.0, h0, dh0, d2h0;
        cm_mean_eval(d->mean, 0.0, &h0, &dh0, &d2h0);
        for (int i = 0; i < n; i++) S += w[i] * (d->y[i] - h0) * (d->y[i] - h0);
        blk[cm_block(d) - 1] = fmax2(log(S / wsum), ctl->lognu_min);
    }
}

/* One M-step from responsibilities resp (n x (K+1)); theta is both the
 * starting point of the inner iterations and the result. */
int cm_mstep(const cm_data *d, const double *resp, double *theta, const cm_control *ctl,
             double *work)
{
    const size_t n = d->n, P = max_sys(d);
    /* the chunk vectors and the n-vectors start on cache lines (cm_align()) */
    double *cs = cm_align(work), *g = cs + mstep_chunk_vecs(d->K) * CM_CHUNK;
    double *u = g + pad8(n * d->K), *ut = u + pad8(n), *sys = ut + pad8(n);
    double *trial = sys + 3 * P * P + 4 * P + d->K + 1;
    for (int i = 0; i < CM_CHUNK; i++) cs[i] = 1.0; /* the ones of the chunk vectors */
    gate_update(d, resp, theta, ctl, g, sys, trial, cs);
    for (int k = 0; k < d->K; k++)
        expert_update(d, resp + (k + 1) * n, theta + (size_t) k * cm_block(d), ctl, u, ut, sys,
                      cs);
    for (int j = 0; j < cm_npar(d); j++)
        if (!R_FINITE(theta[j])) return CM_NONFINITE;
    return CM_OK;
}

/* EM from theta (overwritten with the result). Converged when the
 * log-likelihood changes by at most tol * (|loglik| + 1) in one iteration;
 * stopped when the gate runs off (no finite maximiser to converge to). */
int cm_em(const cm_data *d, double *theta, const cm_control *ctl, cm_trace *tr)
{
    double *work = (double *) R_alloc(cm_work_size(d) + cm_mstep_work_size(d), sizeof(double));
    double *mwork = work + cm_work_size(d);
    double *resp = tr->resp;
    double *last = (double *) R_alloc((size_t) cm_npar(d), sizeof(double));
    double *grange = (double *) R_alloc(2 * (size_t) d->K, sizeof(double));
    double ll, lln;
    tr->iter = 0;
    tr->relchange = NA_REAL;
    int status = cm_loglik(d, theta, &ll, resp, NULL, NULL, NULL, work);
    tr->path[0] = tr->loglik = ll;
    if (status != CM_OK) return status;
    status = CM_MAXIT;
    for (int it = 1; it <= ctl->maxit; it++) {
        R_CheckUserInterrupt();
        memcpy(last, theta, sizeof(double) * cm_npar(d));
        if (cm_mstep(d, resp, theta, ctl, mwork) != CM_OK ||
            cm_loglik(d, theta, &lln, resp, NULL, NULL, grange, work) != CM_OK) {
            /* keep the last finite parameters, whose log-likelihood is known */
            memcpy(theta, last, sizeof(double) * cm_npar(d));
            cm_loglik(d, theta, &ll, resp, NULL, NULL, NULL, work);
            tr->iter = it;
            tr->path[it] = R_NaN;
            tr->loglik = ll;
            return CM_NONFINITE;
        }
        tr->path[it] = lln;
        tr->iter = it;
        tr->relchange = (lln - ll) / (fabs(lln) + 1.0);
        ll = lln;
        if (cm_gate_runaway(grange, d->K, ctl->gate_bound)) {
            status = CM_RUNAWAY;
            break;
        }
        if (fabs(tr->relchange) <= ctl->tol) {
            status = CM_OK;
            break;
        }
    }
    tr->loglik = ll;
    return status;
}

/* ---- .Call boundary --------------------------------------------------- */

/* control = c(maxit, inner_maxit, tol, lognu_min, gate_bound) */
static void unpack_control(SEXP control, cm_control *ctl)
{
    if (!Rf_isReal(control) || XLENGTH(control) != 5)
        Rf_error("`control` must be a double vector of length 5");
    const double *c = REAL(control);
    if (!(c[0] >= 0 && c[0] <= 1e7) || !(c[1] >= 1 && c[1] <= 1e4) || !(c[2] > 0) ||
        !R_FINITE(c[2]) || !R_FINITE(c[3]) || !(c[4] > 0) || !R_FINITE(c[4]))
        Rf_error("`control` holds invalid values");
    ctl->maxit = (int) c[0];
    ctl->inner_maxit = (int) c[1];
    ctl->tol = c[2];
    ctl->lognu_min = c[3];
    ctl->gate_bound = c[4];
}

/* The arguments shared by the fitting entry points. */
static void unpack_fit(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                       SEXP control, cm_data *d, cm_control *ctl)
{
    cm_unpack_data(y, xe, xg, lf0, K, mean, d);
    cm_unpack_theta(theta, d);
    unpack_control(control, ctl);
}

/* Unpack the arguments of a fitting entry point, run `fitter` from theta and
 * return list(theta, loglik, path, iter, relchange, status, resp, score,
 * hessian): responsibilities, score and hessian at the result, the last two
 * NULL when the fitter has none (EM). */
SEXP cm_run_fitter(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                   SEXP control, cm_fitter fitter)
{
    cm_data d;
    cm_control ctl;
    unpack_fit(y, xe, xg, lf0, K, mean, theta, control, &d, &ctl);
    SEXP est = PROTECT(Rf_duplicate(theta));
    const int p = cm_npar(&d);
    SEXP score = PROTECT(Rf_allocVector(REALSXP, p));
    SEXP hess = PROTECT(Rf_allocMatrix(REALSXP, p, p));
    SEXP resp = PROTECT(Rf_allocMatrix(REALSXP, d.n, d.K + 1));
    cm_trace tr;
    tr.path = (double *) R_alloc((size_t) ctl.maxit + 1, sizeof(double));
    tr.resp = REAL(resp);
    tr.score = REAL(score);
    tr.hess = REAL(hess);
    tr.deriv = 0;
    int status = fitter(&d, REAL(est), &ctl, &tr);

    const char *names[] = {"theta", "loglik", "path", "iter", "relchange", "status", "resp",
                           "score", "hessian", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    SEXP path = PROTECT(Rf_allocVector(REALSXP, tr.iter + 1));
    memcpy(REAL(path), tr.path, sizeof(double) * (tr.iter + 1));
    SET_VECTOR_ELT(out, 0, est);
    SET_VECTOR_ELT(out, 1, Rf_ScalarReal(tr.loglik));
    SET_VECTOR_ELT(out, 2, path);
    SET_VECTOR_ELT(out, 3, Rf_ScalarInteger(tr.iter));
    SET_VECTOR_ELT(out, 4, Rf_ScalarReal(tr.relchange));
    SET_VECTOR_ELT(out, 5, Rf_ScalarInteger(status));
    SET_VECTOR_ELT(out, 6, resp);
    SET_VECTOR_ELT(out, 7, tr.deriv ? score : R_NilValue);
    SET_VECTOR_ELT(out, 8, tr.deriv ? hess : R_NilValue);
    UNPROTECT(6);
    return out;
}

/* .Call entry: one M-step from given responsibilities. */
SEXP cm_mstep_call(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                   SEXP resp, SEXP control)
{
    cm_data d;
    cm_control ctl;
    unpack_fit(y, xe, xg, lf0, K, mean, theta, control, &d, &ctl);
    if (!Rf_isReal(resp) || !Rf_isMatrix(resp) || Rf_nrows(resp) != d.n ||
        Rf_ncols(resp) != d.K + 1)
        Rf_error("`resp` must be a double matrix with %d rows and %d columns", d.n, d.K + 1);
    for (R_xlen_t j = 0; j < XLENGTH(resp); j++)
        if (!(REAL(resp)[j] >= 0.0) || !R_FINITE(REAL(resp)[j]))
            Rf_error("`resp` must be finite and non-negative");
    SEXP out = PROTECT(Rf_duplicate(theta));
    double *work = (double *) R_alloc(cm_mstep_work_size(&d), sizeof(double));
    cm_mstep(&d, REAL(resp), REAL(out), &ctl, work);
    UNPROTECT(1);
    return out;
}

/* .Call entry: EM from theta. */
SEXP cm_em_call(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                SEXP control)
{
    return cm_run_fitter(y, xe, xg, lf0, K, mean, theta, control, cm_em);
}
