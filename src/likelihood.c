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

/* Observations are processed in chunks of CM_CHUNK rows: the per-observation
 * quantities of a chunk are computed first (the transcendental functions),
 * then the score and Hessian are accumulated as weighted cross products of
 * design columns over the chunk, loops that the compiler vectorises. */

/* Chunk vectors per prompt: u, g, h, h', h'', posterior r, gate probability
 * pi, e = res h' / nu, s = d a / d log nu, and the three second-derivative
 * weights of log N; then, shared, ones, four weights (wt, cw, c2, c3) and
 * three of kernel scratch. */
enum { CV_U, CV_G, CV_H, CV_DH, CV_D2H, CV_R, CV_PI, CV_E, CV_S, CV_EE, CV_EL, CV_LL, CV_N };

/* Scratch needed by cm_loglik. */
size_t cm_work_size(const cm_data *d)
{
    size_t K = d->K, q = d->q;
    return (CV_N * K + 8) * CM_CHUNK + 2 * (K + 1) + 2 * K + 3 * K * q * q + CM_ALIGN_SLACK;
}

/* out[i] = c0 + sum_j coef[j] cols[j][i0 + i] for i < len: a linear
 * predictor over rows i0 .. i0 + len - 1, one column at a time. */
CM_KERNEL void cm_xprod(const double *const *cols, int ncol, size_t i0, int len,
                        const double *coef, double c0, double *out)
{
    for (int i = 0; i < len; i++) out[i] = c0;
    for (int j = 0; j < ncol; j++) {
        const double *x = cols[j] + i0, c = coef[j];
#pragma omp simd
        for (int i = 0; i < len; i++) out[i] += c * x[i];
    }
}

/* o[a * sa + b * sb] += sum_i c_i A_a[i] C_b[i] over a < na and b < nc
 * (b >= a when tri). Four columns of C at a time share each load of c A_a;
 * a single column is summed in four quarters, so that no loop waits on one
 * accumulator. tmp: B scratch. */
CM_KERNEL static void acc_kernel(int B, const double *c, const double *const *A, int na,
                       const double *const *C, int nc, int tri, double *o, size_t sa,
                       size_t sb, double *tmp)
{
    const int h = B / 4;
    for (int a = 0; a < na; a++) {
        const double *xa = A[a];
        double *oa = o + a * sa;
#pragma omp simd
        for (int i = 0; i < B; i++) tmp[i] = c[i] * xa[i];
        int b = tri ? a : 0;
        for (; b + 4 <= nc; b += 4) {
            const double *c0 = C[b], *c1 = C[b + 1], *c2 = C[b + 2], *c3 = C[b + 3];
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
            for (int i = 0; i < B; i++) {
                double t = tmp[i];
                s0 += t * c0[i];
                s1 += t * c1[i];
                s2 += t * c2[i];
                s3 += t * c3[i];
            }
            oa[b * sb] += s0;
            oa[(b + 1) * sb] += s1;
            oa[(b + 2) * sb] += s2;
            oa[(b + 3) * sb] += s3;
        }
        for (; b < nc; b++) {
            const double *c0 = C[b];
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
            for (int i = 0; i < h; i++) {
                s0 += tmp[i] * c0[i];
                s1 += tmp[i + h] * c0[i + h];
                s2 += tmp[i + 2 * h] * c0[i + 2 * h];
                s3 += tmp[i + 3 * h] * c0[i + 3 * h];
            }
            for (int i = 4 * h; i < B; i++) s0 += tmp[i] * c0[i];
            oa[b * sb] += (s0 + s1) + (s2 + s3);
        }
    }
}

/* out[(col0 + b) * ld + row0 + a] += sum_i c_i A_a[i] C_b[i] over a < na and
 * b < nc (b >= a when tri: a diagonal block, upper triangle only); the
 * longer side is the inner one. */
void cm_acc_cross(int B, const double *c, const double *const *A, int na,
                  const double *const *C, int nc, int tri, double *out, int ld, int row0,
                  int col0, double *tmp)
{
    double *o = out + (size_t) col0 * ld + row0;
    if (!tri && nc < na)
        acc_kernel(B, c, C, nc, A, na, 0, o, (size_t) ld, 1, tmp);
    else
        acc_kernel(B, c, A, na, C, nc, tri, o, 1, (size_t) ld, tmp);
}

/* Three weights against the same columns: o1[a * s1] += sum_i c1_i X_a[i],
 * likewise o2 with c2 and o3 with c3, for a < nx. Four columns at a time
 * share each load of a weight and keep twelve sums apart. */
CM_KERNEL static void acc_w3(int B, const double *c1, const double *c2, const double *c3,
                             const double *const *X, int nx, double *o1, size_t s1, double *o2,
                             size_t s2, double *o3, size_t s3)
{
    int a = 0;
    for (; a + 4 <= nx; a += 4) {
        const double *x0 = X[a], *x1 = X[a + 1], *x2 = X[a + 2], *x3 = X[a + 3];
        double p0 = 0.0, p1 = 0.0, p2 = 0.0, p3 = 0.0, q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
        double r0 = 0.0, r1 = 0.0, r2 = 0.0, r3 = 0.0;
#pragma omp simd reduction(+ : p0, p1, p2, p3, q0, q1, q2, q3, r0, r1, r2, r3)
        for (int i = 0; i < B; i++) {
            p0 += c1[i] * x0[i];
            p1 += c1[i] * x1[i];
            p2 += c1[i] * x2[i];
            p3 += c1[i] * x3[i];
            q0 += c2[i] * x0[i];
            q1 += c2[i] * x1[i];
            q2 += c2[i] * x2[i];
            q3 += c2[i] * x3[i];
            r0 += c3[i] * x0[i];
            r1 += c3[i] * x1[i];
            r2 += c3[i] * x2[i];
            r3 += c3[i] * x3[i];
        }
        o1[a * s1] += p0;
        o1[(a + 1) * s1] += p1;
        o1[(a + 2) * s1] += p2;
        o1[(a + 3) * s1] += p3;
        o2[a * s2] += q0;
        o2[(a + 1) * s2] += q1;
        o2[(a + 2) * s2] += q2;
        o2[(a + 3) * s2] += q3;
        o3[a * s3] += r0;
        o3[(a + 1) * s3] += r1;
        o3[(a + 2) * s3] += r2;
        o3[(a + 3) * s3] += r3;
    }
    for (; a < nx; a++) {
        const double *x0 = X[a];
        double p0 = 0.0, q0 = 0.0, r0 = 0.0;
#pragma omp simd reduction(+ : p0, q0, r0)
        for (int i = 0; i < B; i++) {
            p0 += c1[i] * x0[i];
            q0 += c2[i] * x0[i];
            r0 += c3[i] * x0[i];
        }
        o1[a * s1] += p0;
        o2[a * s2] += q0;
        o3[a * s3] += r0;
    }
}

/* Three weighted cross products of the same columns at once, upper
 * triangles: S1[b * nx + a] += sum_i c1_i X_a[i] X_b[i] (a <= b), likewise
 * S2 with c2 and S3 with c3: for each a, the three weights times X_a
 * against the columns from a on. t: 3 B scratch. */
CM_KERNEL static void acc_tri3(int B, const double *c1, const double *c2, const double *c3,
                               const double *const *X, int nx, double *S1, double *S2,
                               double *S3, double *t)
{
    double *t1 = t, *t2 = t + B, *t3 = t + 2 * B;
    for (int a = 0; a < nx; a++) {
        const double *xa = X[a];
        const size_t o = (size_t) a * nx + a;
#pragma omp simd
        for (int i = 0; i < B; i++) {
            t1[i] = c1[i] * xa[i];
            t2[i] = c2[i] * xa[i];
            t3[i] = c3[i] * xa[i];
        }
        acc_w3(B, t1, t2, t3, X + a, nx - a, S1 + o, nx, S2 + o, nx, S3 + o, nx);
    }
}

/* Add the sums of acc_tri3 over the expert columns to the diagonal block at
 * r0 of the Hessian when the gate columns are the expert columns from off
 * on: expert-expert from SEE, gate-gate from SGG, and gate-expert from SGE,
 * whose products are symmetric (gate column g is expert column g + off). */
static void scatter_shared(int q, int off, const double *SEE, const double *SGE,
                           const double *SGG, double *hess, int p, int r0)
{
    const int pg = q - off, zg = pg + 1;
    for (int b = 0; b < q; b++)
        for (int a = 0; a <= b; a++) {
            size_t ab = (size_t) b * q + a;
            hess[(size_t) (r0 + zg + b) * p + r0 + zg + a] += SEE[ab];
            if (a >= off) {
                hess[(size_t) (r0 + b - off) * p + r0 + a - off] += SGG[ab];
                hess[(size_t) (r0 + zg + b) * p + r0 + a - off] += SGE[ab];
            }
            if (b >= off && a != b) hess[(size_t) (r0 + zg + a) * p + r0 + b - off] += SGE[ab];
        }
}

/* One chunk of B rows for K = 1, where both log-sum-exps have two terms:
 *   lse(a0, a1) - lse(0, g) = max(a0, a1) - max(0, g)
 *                             + log((1 + exp(-|a1 - a0|)) / (1 + exp(-|g|))),
 * and the posterior and gate probabilities come from the same exponentials.
 * The argument of the log lies in [1/2, 2], so the chunk's are multiplied
 * and take one log. One vectorised loop fills the posteriors r (prompt) and
 * r0 (pre-trained expert) and the gate probability pi, and returns the
 * chunk's log-likelihood: not finite when some row's is not, and the chunk
 * is then redone by the general path. v: the chunk vectors of the prompt. */
CM_KERNEL static double chunk_one(int B, const double *y, const double *lf0, double lnorm,
                                  double inu, double *v, double *r0)
{
    const double *h = v + CV_H * CM_CHUNK, *g = v + CV_G * CM_CHUNK;
    double *r = v + CV_R * CM_CHUNK, *pi = v + CV_PI * CM_CHUNK, sum = 0.0, prod = 1.0;
#pragma omp simd reduction(+ : sum) reduction(* : prod)
    for (int i = 0; i < B; i++) {
        double res = y[i] - h[i], a1 = g[i] + lnorm - 0.5 * res * res * inu, dl = a1 - lf0[i];
        double e = cm_exp_neg(-fabs(dl)), eg = cm_exp_neg(-fabs(g[i]));
        double ie = 1.0 / (1.0 + e), ieg = 1.0 / (1.0 + eg);
        /* selects by mask on the sign of -dl (dl > 0) and of -g (g > 0) */
        r[i] = ie * cm_if_neg(-dl, 1.0, e);
        r0[i] = ie * cm_if_neg(-dl, e, 1.0);
        pi[i] = ieg * cm_if_neg(-g[i], 1.0, eg);
        sum += cm_if_neg(-dl, a1, lf0[i]) - cm_if_neg(-g[i], g[i], 0.0);
        prod *= (1.0 + e) * ieg;
    }
    return sum + log(prod);
}

/* The residual y - h, or 0 where the posterior r (>= 0) is 0: such a row
 * adds nothing, whatever its residual (no 0 * Inf). By mask, like
 * cm_if_neg(). */
static inline double live_residual(double y, double h, double r)
{
    cm_bits br, res;
    br.d = r;
    res.d = y - h;
    res.u &= -((0 - (br.u & 0x7fffffffffffffffULL)) >> 63);
    return res.d;
}

/* The per-row weights of the derivatives of a_k for one chunk (see
 * cm_loglik()): e = res h' / nu, s = d a / d log nu and, with hess, the
 * second-derivative weights times the posterior r. v: the chunk vectors of
 * prompt k. */
CM_KERNEL static void deriv_weights(int B, const double *y, double inu, int hess, double *v)
{
    const double *r = v + CV_R * CM_CHUNK, *h = v + CV_H * CM_CHUNK;
    const double *dh = v + CV_DH * CM_CHUNK, *d2h = v + CV_D2H * CM_CHUNK;
    double *e = v + CV_E * CM_CHUNK, *s = v + CV_S * CM_CHUNK, *ee = v + CV_EE * CM_CHUNK;
    double *el = v + CV_EL * CM_CHUNK, *ll = v + CV_LL * CM_CHUNK;
#pragma omp simd
    for (int i = 0; i < B; i++) {
        double res = live_residual(y[i], h[i], r[i]);
        e[i] = res * inu * dh[i];
        s[i] = -0.5 + 0.5 * res * res * inu;
    }
    if (!hess) return;
#pragma omp simd
    for (int i = 0; i < B; i++) {
        double res = live_residual(y[i], h[i], r[i]);
        ee[i] = r[i] * (res * d2h[i] - dh[i] * dh[i]) * inu;
        el[i] = -r[i] * res * dh[i] * inu;
        ll[i] = -0.5 * r[i] * res * res * inu;
    }
}

/* Log-likelihood at theta and, when the pointers are non-NULL, the posterior
 * responsibilities resp (n x (K+1), column 0 the pre-trained expert), the
 * score (p) and the Hessian (p x p) with respect to theta, and the range
 * (min, max) of |g_k| over the observations for each prompt (grange, 2 K;
 * see cm_gate_runaway()).
 * A Hessian comes with the score (hess needs score: the shared-column path
 * sums them together). work: at least cm_work_size(d) doubles. Returns CM_OK
 * or CM_NONFINITE.
 *
 * With v_k the gradient of a_k = g_k + log N(y | h(u_k), nu_k) in block k,
 *   score   = sum_k r_k v_k - (gate rows) sum_k pi_k z,
 *   Hessian = sum_kl (delta_kl r_k - r_k r_l) v_k v_l'
 *           - (gate rows and columns) sum_kl (delta_kl pi_k - pi_k pi_l) z z'
 *           + sum_k r_k d2 a_k,
 * z = (xg, 1); each block of it is a cross product of design columns with
 * one weight per observation. */
CM_KERNEL int cm_loglik(const cm_data *d, const double *theta, double *ll, double *resp,
                        double *score, double *hess, double *grange, double *work)
{
    const int n = d->n, K = d->K, q = d->q, pg = d->pg, m = cm_block(d), p = cm_npar(d);
    const int zg = pg + 1; /* gate design incl. the intercept */
    const int deriv = score || hess;
    if (hess && !score) Rf_error("cm_loglik(): a Hessian needs the score");
    double *V = cm_align(work), *ones = V + (size_t) CV_N * K * CM_CHUNK, *wt = ones + CM_CHUNK;
    double *cw = wt + CM_CHUNK, *c2 = cw + CM_CHUNK, *c3 = c2 + CM_CHUNK;
    double *tmp = c3 + CM_CHUNK, *a = tmp + 3 * CM_CHUNK, *gl = a + K + 1;
    double *inu = gl + K + 1, *lnorm = inu + K, *S = lnorm + K; /* inu: 1 / nu */
    /* gate columns = expert columns off .. q - 1: the diagonal blocks share products */
    const int off = d->gate_off, shared = off >= 0;
    const size_t qq = (size_t) q * q;
    const double **colg = d->cols, **cole = d->cols + zg;
    const double *colone[1] = {ones};
#define CV(k, j) (V + ((size_t) (k) * CV_N + (j)) * CM_CHUNK)

    for (int k = 0; k < K; k++) {
        double lnu = theta[(size_t) k * m + m - 1];
        inu[k] = exp(-lnu);
        lnorm[k] = -0.5 * (LOG_2PI + lnu);
    }
    for (int i = 0; i < CM_CHUNK; i++) ones[i] = 1.0;
    if (grange)
        for (int k = 0; k < K; k++) {
            grange[2 * k] = R_PosInf;
            grange[2 * k + 1] = 0.0;
        }
    if (score) memset(score, 0, sizeof(double) * p);
    if (hess) memset(hess, 0, sizeof(double) * (size_t) p * p);
    if (hess && shared) memset(S, 0, sizeof(double) * 3 * K * qq);

    double total = 0.0;
    for (int i0 = 0; i0 < n; i0 += CM_CHUNK) {
        const int B = cm_chunk_len(n, i0);
        for (int k = 0; k < K; k++) {
            const double *blk = theta + (size_t) k * m;
            cm_xprod(d->xe, q, i0, B, blk + zg, 0.0, CV(k, CV_U));
            cm_xprod(d->xg, pg, i0, B, blk, blk[pg], CV(k, CV_G));
            if (grange) {
                const double *g = CV(k, CV_G);
                double lo = grange[2 * k], hi = grange[2 * k + 1];
#pragma omp simd reduction(min : lo) reduction(max : hi)
                for (int i = 0; i < B; i++) {
                    double ag = fabs(g[i]);
                    lo = ag < lo ? ag : lo;
                    hi = ag > hi ? ag : hi;
                }
                grange[2 * k] = lo;
                grange[2 * k + 1] = hi;
            }
            cm_mean_array(d->mean, B, CV(k, CV_U), CV(k, CV_H), CV(k, CV_DH),
                          hess ? CV(k, CV_D2H) : NULL);
        }
        /* r0: the pre-trained expert's posterior, NaN for a row whose
         * log-likelihood is not finite */
        double *r0 = c3, ctotal = K == 1 ? chunk_one(B, d->y + i0, d->lf0 + i0, lnorm[0],
                                                     inu[0], CV(0, 0), r0)
                                         : R_NaN;
        const int general = !R_FINITE(ctotal);
        if (general) {
            ctotal = 0.0;
            for (int ii = 0; ii < B; ii++) {
                const int i = i0 + ii;
                a[0] = d->lf0[i];
                gl[0] = 0.0;
                for (int k = 0; k < K; k++) {
                    double res = d->y[i] - CV(k, CV_H)[ii];
                    gl[k + 1] = CV(k, CV_G)[ii];
                    a[k + 1] = gl[k + 1] + lnorm[k] - 0.5 * res * res * inu[k];
                }
                double la = cm_logsumexp(a, K + 1), lg = cm_logsumexp(gl, K + 1);
                double contrib = la - lg;
                ctotal += contrib;
                r0[ii] = cm_exp_neg(a[0] - la);
                for (int k = 0; k < K; k++) {
                    CV(k, CV_R)[ii] = cm_exp_neg(a[k + 1] - la);
                    CV(k, CV_PI)[ii] = cm_exp_neg(gl[k + 1] - lg);
                }
                if (!isfinite(contrib)) {
                    /* the total is not finite; this observation adds nothing more */
                    for (int k = 0; k < K; k++) CV(k, CV_R)[ii] = CV(k, CV_PI)[ii] = 0.0;
                    r0[ii] = R_NaN;
                }
            }
        }
        total += ctotal;
        if (resp) {
            memcpy(resp + i0, r0, sizeof(double) * B);
            for (int k = 0; k < K; k++)
                memcpy(resp + (size_t) (k + 1) * n + i0, CV(k, CV_R), sizeof(double) * B);
            for (int ii = 0; general && ii < B; ii++)
                if (ISNAN(r0[ii]))
                    for (int k = 0; k < K; k++) resp[(size_t) (k + 1) * n + i0 + ii] = R_NaN;
        }
        if (!deriv) continue;
        for (int k = 0; k < K; k++) deriv_weights(B, d->y + i0, inu[k], hess != NULL, CV(k, 0));

        for (int j = 0; j < pg; j++) colg[j] = d->xg[j] + i0;
        colg[pg] = ones;
        for (int j = 0; j < q; j++) cole[j] = d->xe[j] + i0;
        /* with the Hessian of shared columns, the score is summed along with it */
        if (score && !(hess && shared))
            for (int k = 0; k < K; k++) {
                const double *r = CV(k, CV_R), *pi = CV(k, CV_PI), *e = CV(k, CV_E), *s = CV(k, CV_S);
                double *sk = score + (size_t) k * m;
#pragma omp simd
                for (int i = 0; i < B; i++) wt[i] = r[i] - pi[i];
                cm_acc_cross(B, wt, colg, zg, colone, 1, 0, sk, 0, 0, 0, tmp);
#pragma omp simd
                for (int i = 0; i < B; i++) wt[i] = r[i] * e[i];
                cm_acc_cross(B, wt, cole, q, colone, 1, 0, sk, 0, zg, 0, tmp);
#pragma omp simd
                for (int i = 0; i < B; i++) wt[i] = r[i] * s[i];
                cm_acc_cross(B, wt, colone, 1, colone, 1, 0, sk, 0, m - 1, 0, tmp);
            }
        if (!hess) continue;
        for (int l = 0; l < K; l++) {
            const double *rl = CV(l, CV_R), *pl = CV(l, CV_PI), *el = CV(l, CV_E), *sl = CV(l, CV_S);
            for (int k = 0; k <= l; k++) {
                const double *rk = CV(k, CV_R), *pk = CV(k, CV_PI), *ek = CV(k, CV_E);
                const double *sk = CV(k, CV_S);
                const int diag = k == l, r0 = k * m, c0 = l * m;
                double *W = wt;
#pragma omp simd
                for (int i = 0; i < B; i++) W[i] = (diag ? rk[i] : 0.0) - rk[i] * rl[i];
#define HACC(expr, A, na, C, nc, tri, roff, coff)                                          \
    do {                                                                                   \
        _Pragma("omp simd") for (int i = 0; i < B; i++) cw[i] = (expr);                    \
        cm_acc_cross(B, cw, A, na, C, nc, tri, hess, p, r0 + (roff), c0 + (coff), tmp);    \
    } while (0)
                if (diag && shared) {
                    /* the products of expert columns carry three weights at once */
                    const double *ee = CV(k, CV_EE);
                    double *SEE = S + 3 * k * qq, *SGE = SEE + qq, *SGG = SGE + qq;
                    _Pragma("omp simd") for (int i = 0; i < B; i++) {
                        cw[i] = W[i] - (pk[i] - pk[i] * pl[i]);
                        c2[i] = W[i] * el[i];
                        c3[i] = W[i] * ek[i] * el[i] + ee[i];
                    }
                    acc_tri3(B, c3, c2, cw, cole, q, SEE, SGE, SGG, tmp);
                    /* the sums against single columns, three weights per column:
                     * against the gate columns (ones last, for tau) the score, the
                     * log nu column and the tau column of the Hessian; against the
                     * expert columns the score, the log nu column and the tau row */
                    const double *wel = CV(k, CV_EL), *wll = CV(k, CV_LL);
                    double *gs = tmp, *gn = tmp + CM_CHUNK, *en = tmp + 2 * CM_CHUNK;
                    double *es = c3, ss = 0.0, sn = 0.0;
                    _Pragma("omp simd reduction(+ : ss, sn)") for (int i = 0; i < B; i++) {
                        gs[i] = rk[i] - pk[i];
                        gn[i] = W[i] * sk[i];
                        es[i] = rk[i] * ek[i];
                        en[i] = gn[i] * ek[i] + wel[i];
                        ss += rk[i] * sk[i];
                        sn += gn[i] * sk[i] + wll[i];
                    }
                    double *sc = score + (size_t) k * m, *hn = hess + (size_t) (c0 + m - 1) * p;
                    acc_w3(B, gs, gn, cw, colg, zg, sc, 1, hn + r0, 1,
                           hess + (size_t) (c0 + pg) * p + r0, 1);
                    acc_w3(B, es, en, c2, cole, q, sc + zg, 1, hn + r0 + zg, 1,
                           hess + (size_t) (c0 + zg) * p + r0 + pg, (size_t) p);
                    sc[m - 1] += ss;
                    hn[r0 + m - 1] += sn;
                    continue;
                }
                HACC(W[i] - ((diag ? pk[i] : 0.0) - pk[i] * pl[i]), colg, zg, colg, zg, diag, 0,
                     0);
                HACC(W[i] * el[i], colg, zg, cole, q, 0, 0, zg);
                HACC(W[i] * ek[i] * el[i] + (diag ? CV(k, CV_EE)[i] : 0.0), cole, q, cole, q, diag,
                     zg, zg);
                HACC(W[i] * sl[i], colg, zg, colone, 1, 0, 0, m - 1);
                HACC(W[i] * ek[i] * sl[i] + (diag ? CV(k, CV_EL)[i] : 0.0), cole, q, colone, 1,
                     0, zg, m - 1);
                HACC(W[i] * sk[i] * sl[i] + (diag ? CV(k, CV_LL)[i] : 0.0), colone, 1, colone,
                     1, 0, m - 1, m - 1);
                if (diag) continue;
                HACC(W[i] * ek[i], cole, q, colg, zg, 0, zg, 0);
                HACC(W[i] * sk[i], colone, 1, colg, zg, 0, m - 1, 0);
                HACC(W[i] * sk[i] * el[i], colone, 1, cole, q, 0, m - 1, zg);
#undef HACC
            }
        }
    }
#undef CV
    *ll = total;
    if (hess && shared)
        for (int k = 0; k < K; k++)
            scatter_shared(q, off, S + 3 * k * qq, S + 3 * k * qq + qq, S + 3 * k * qq + 2 * qq,
                           hess, p, k * m);
    if (hess) cm_mirror_upper(p, hess);
    return R_FINITE(total) ? CM_OK : CM_NONFINITE;
}

/* Has the gate run off? True when, for some prompt k, the gate's linear
 * predictor g_k = xg beta_k + tau_k exceeds bound in absolute value at every
 * observation (the prompt is certain or impossible against the pre-trained
 * expert everywhere), or exceeds 50 bound at some observation (a logit no
 * finite maximiser needs): the likelihood then has no finite maximiser in
 * reach. Both are invariant to shifts and scalings of the covariates, unlike
 * a bound on the coefficients. grange: min and max of |g_k| over the
 * observations for each k, as cm_loglik() leaves them. */
int cm_gate_runaway(const double *grange, int K, double bound)
{
    for (int k = 0; k < K; k++)
        if (grange[2 * k] > bound || grange[2 * k + 1] > 50.0 * bound) return 1;
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

static void check_mean_code(SEXP mean)
{
    if (!Rf_isInteger(mean) || XLENGTH(mean) != 1 || INTEGER(mean)[0] < CM_LINEAR ||
        INTEGER(mean)[0] > CM_RELU)
        Rf_error("`mean` must be one known integer code");
}

static const double **matrix_columns(SEXP x, int n)
{
    int nc = Rf_ncols(x);
    const double **cols = (const double **) R_alloc((size_t) nc, sizeof(double *));
    for (int j = 0; j < nc; j++) cols[j] = REAL(x) + (size_t) j * n;
    return cols;
}

/* Check and unpack the data arguments shared by every fitting entry point.
 * xg is a double matrix, or an integer vector of 1-based column numbers of
 * xe: the gate design made of expert columns, shared without a copy. */
void cm_unpack_data(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, cm_data *d)
{
    if (!Rf_isReal(y)) Rf_error("`y` must be a double vector");
    if (XLENGTH(y) < 1 || XLENGTH(y) > INT_MAX) Rf_error("`y` has an unsupported length");
    int n = (int) XLENGTH(y);
    check_real_matrix(xe, "xe", n);
    const int shared = Rf_isInteger(xg) && !Rf_isMatrix(xg);
    if (!shared) check_real_matrix(xg, "xg", n);
    if (!Rf_isReal(lf0) || XLENGTH(lf0) != n) Rf_error("`lf0` must be a double vector of length %d", n);
    if (!Rf_isInteger(K) || XLENGTH(K) != 1 || INTEGER(K)[0] < 1 || INTEGER(K)[0] > 1000)
        Rf_error("`K` must be one integer between 1 and 1000");
    check_mean_code(mean);
    d->n = n;
    d->q = Rf_ncols(xe);
    d->K = INTEGER(K)[0];
    d->mean = INTEGER(mean)[0];
    d->y = REAL(y);
    d->lf0 = REAL(lf0);
    d->xe = matrix_columns(xe, n);
    if (shared) {
        if (XLENGTH(xg) > d->q) Rf_error("`xg` has more column numbers than `xe` has columns");
        d->pg = (int) XLENGTH(xg);
        d->xg = (const double **) R_alloc((size_t) d->pg, sizeof(double *));
        for (int j = 0; j < d->pg; j++) {
            int c = INTEGER(xg)[j];
            if (c == NA_INTEGER || c < 1 || c > d->q)
                Rf_error("`xg` must hold column numbers of `xe` (1 to %d)", d->q);
            d->xg[j] = d->xe[c - 1];
        }
    } else {
        d->pg = Rf_ncols(xg);
        d->xg = matrix_columns(xg, n);
    }
    d->cols = (const double **) R_alloc((size_t) d->pg + 1 + d->q, sizeof(double *));
    /* are the gate columns the last pg expert columns, in order? */
    d->gate_off = d->pg > 0 ? d->q - d->pg : -1;
    for (int j = 0; j < d->pg && d->gate_off >= 0; j++)
        if (d->xg[j] != d->xe[j + d->gate_off]) d->gate_off = -1;
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
                    SEXP deriv, SEXP want_resp)
{
    cm_data d;
    cm_unpack_data(y, xe, xg, lf0, K, mean, &d);
    cm_unpack_theta(theta, &d);
    if (!Rf_isInteger(deriv) || XLENGTH(deriv) != 1 || INTEGER(deriv)[0] < 0 ||
        INTEGER(deriv)[0] > 2)
        Rf_error("`deriv` must be 0, 1 or 2");
    if (!Rf_isLogical(want_resp) || XLENGTH(want_resp) != 1 ||
        LOGICAL(want_resp)[0] == NA_LOGICAL)
        Rf_error("`resp` must be TRUE or FALSE");
    int level = INTEGER(deriv)[0], p = cm_npar(&d), nprot = 0;
    const char *names[] = {"loglik", "resp", "score", "hessian", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names)); nprot++;
    SEXP ll = PROTECT(Rf_allocVector(REALSXP, 1)); nprot++;
    SEXP resp = R_NilValue, score = R_NilValue, hess = R_NilValue;
    if (LOGICAL(want_resp)[0]) { resp = PROTECT(Rf_allocMatrix(REALSXP, d.n, d.K + 1)); nprot++; }
    if (level >= 1) { score = PROTECT(Rf_allocVector(REALSXP, p)); nprot++; }
    if (level >= 2) { hess = PROTECT(Rf_allocMatrix(REALSXP, p, p)); nprot++; }
    double *work = (double *) R_alloc(cm_work_size(&d), sizeof(double));
    cm_loglik(&d, REAL(theta), REAL(ll), resp == R_NilValue ? NULL : REAL(resp),
              level >= 1 ? REAL(score) : NULL, level >= 2 ? REAL(hess) : NULL, NULL, work);
    SET_VECTOR_ELT(out, 0, ll);
    SET_VECTOR_ELT(out, 1, resp);
    SET_VECTOR_ELT(out, 2, score);
    SET_VECTOR_ELT(out, 3, hess);
    UNPROTECT(nprot);
    return out;
}

/* .Call entry: the cross product of cbind(1, x) for a double matrix x, by
 * the kernel of the Hessian (no copy of x; the rank checks of the designs
 * need the column sums and cross products). */
SEXP cm_crossprod1_call(SEXP x)
{
    if (!Rf_isReal(x) || !Rf_isMatrix(x)) Rf_error("`x` must be a double matrix");
    const int n = Rf_nrows(x), p = Rf_ncols(x) + 1;
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, p, p));
    double *o = REAL(out), *ones = (double *) R_alloc(CM_CHUNK, sizeof(double));
    double *tmp = (double *) R_alloc(CM_CHUNK, sizeof(double));
    const double **col = (const double **) R_alloc((size_t) p, sizeof(double *));
    memset(o, 0, sizeof(double) * (size_t) p * p);
    for (int i = 0; i < CM_CHUNK; i++) ones[i] = 1.0;
    col[0] = ones;
    for (int i0 = 0; i0 < n; i0 += CM_CHUNK) {
        const int B = cm_chunk_len(n, i0);
        for (int j = 1; j < p; j++) col[j] = REAL(x) + (size_t) (j - 1) * n + i0;
        acc_kernel(B, ones, col, p, col, p, 1, o, 1, (size_t) p, tmp);
    }
    cm_mirror_upper(p, o);
    UNPROTECT(1);
    return out;
}

/* .Call entry: h(x eta) for a double matrix x, a mean function code and
 * coefficients eta (the pre-trained expert's and the prompts' means). */
SEXP cm_index_mean_call(SEXP x, SEXP eta, SEXP mean)
{
    if (!Rf_isReal(x) || !Rf_isMatrix(x)) Rf_error("`x` must be a double matrix");
    const int n = Rf_nrows(x), q = Rf_ncols(x);
    if (!Rf_isReal(eta) || XLENGTH(eta) != q)
        Rf_error("`eta` must be a double vector of length %d", q);
    check_mean_code(mean);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    const double **col = matrix_columns(x, n);
    double *u = (double *) R_alloc(2 * CM_CHUNK, sizeof(double)), *dh = u + CM_CHUNK;
    for (int i0 = 0; i0 < n; i0 += CM_CHUNK) {
        const int B = cm_chunk_len(n, i0);
        cm_xprod(col, q, i0, B, REAL(eta), 0.0, u);
        cm_mean_array(INTEGER(mean)[0], B, u, REAL(out) + i0, dh, NULL);
    }
    UNPROTECT(1);
    return out;
}
