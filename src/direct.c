/* Direct maximisation of the observed log-likelihood by Newton's method with
 * the analytic Hessian. Where the Hessian is not negative definite a ridge
 * (Levenberg) is added until it is; every step is backtracked until the
 * log-likelihood does not fall. log nu is kept above its floor. */
#include "contamoe.h"

static void clamp_lognu(const cm_data *d, double *theta, double lognu_min)
{
    for (int k = 0; k < d->K; k++) {
        double *l = theta + (size_t) k * cm_block(d) + cm_block(d) - 1;
        if (*l < lognu_min) *l = lognu_min;
    }
}

/* A log nu on its floor whose score points further down is held fixed: its
 * row and column of the Newton system become those of the identity and its
 * step is zero (a projected Newton step). */
static void fix_floored(const cm_data *d, const double *theta, double lognu_min, double *negH,
                        double *step)
{
    const int p = cm_npar(d), m = cm_block(d);
    for (int k = 0; k < d->K; k++) {
        int j = k * m + m - 1;
        if (theta[j] > lognu_min || step[j] >= 0.0) continue;
        for (int i = 0; i < p; i++) negH[(size_t) j * p + i] = negH[(size_t) i * p + j] = 0.0;
        negH[(size_t) j * p + j] = 1.0;
        step[j] = 0.0;
    }
}

/* Newton from theta (overwritten with the result). Each iteration costs one
 * pass with the Hessian: the full step is tried with the derivatives
 * evaluated along, and only a step that must be backtracked costs more.
 * Converged when the predicted gain of the next Newton step, half the Newton
 * decrement score' H^-1 score, is at most tol * (|loglik| + 1) with no ridge
 * needed, or when a step changes the log-likelihood by at most that much;
 * stopped when the gate runs off. */
int cm_direct(const cm_data *d, double *theta, const cm_control *ctl, cm_trace *tr)
{
    const int p = cm_npar(d);
    double *work = (double *) R_alloc(cm_work_size(d), sizeof(double));
    double *score = (double *) R_alloc((size_t) p, sizeof(double));
    double *step = (double *) R_alloc((size_t) p, sizeof(double));
    double *trial = (double *) R_alloc((size_t) p, sizeof(double));
    double *H = (double *) R_alloc((size_t) p * p, sizeof(double));
    double *tscore = (double *) R_alloc((size_t) p, sizeof(double));
    double *tH = (double *) R_alloc((size_t) p * p, sizeof(double));
    double *fac = (double *) R_alloc((size_t) p * p + p, sizeof(double));
    double *grange = (double *) R_alloc(2 * (size_t) d->K, sizeof(double));
    double ll, lln = R_NegInf, ridge, *swap;
    int resp_here = 1; /* do tr->resp belong to theta? (a rejected trial overwrites them) */

    tr->iter = 0;
    tr->relchange = NA_REAL;
    clamp_lognu(d, theta, ctl->lognu_min);
    int status = cm_loglik(d, theta, &ll, tr->resp, score, H, grange, work);
    tr->path[0] = tr->loglik = ll;
    if (status != CM_OK) return status;
    status = CM_MAXIT;
    for (int it = 1; it <= ctl->maxit; it++) {
        R_CheckUserInterrupt();
        /* the Newton system -H step = score, built in tH (free until the trial) */
        for (size_t j = 0; j < (size_t) p * p; j++) tH[j] = -H[j];
        memcpy(step, score, sizeof(double) * p);
        fix_floored(d, theta, ctl->lognu_min, tH, step);
        if (cm_chol_solve(p, tH, step, fac, 1e-10, &ridge) != CM_OK) {
            status = CM_SINGULAR;
            break;
        }
        double slope = 0.0, tolabs = ctl->tol * (fabs(ll) + 1.0);
        for (int j = 0; j < p; j++) slope += score[j] * step[j];
        if (ridge == 0.0 && 0.5 * slope <= tolabs) {
            status = CM_OK;
            break;
        }
        double t = 1.0;
        int accepted = 0, have_deriv = 0;
        for (int half = 0; half < 50 && !accepted; half++, t *= 0.5) {
            for (int j = 0; j < p; j++) trial[j] = theta[j] + t * step[j];
            clamp_lognu(d, trial, ctl->lognu_min);
            have_deriv = half == 0;
            accepted = cm_loglik(d, trial, &lln, have_deriv ? tr->resp : NULL,
                                 have_deriv ? tscore : NULL, have_deriv ? tH : NULL, grange,
                                 work) == CM_OK &&
                       lln >= ll + 1e-4 * t * slope;
            if (have_deriv) resp_here = accepted;
        }
        tr->iter = it;
        if (!accepted) {
            /* no ascent left along the Newton direction: at the optimum to
             * round-off if the predicted gain is negligible */
            tr->path[it] = ll;
            tr->relchange = 0.0;
            tr->iter = it - 1;
            status = slope <= tolabs ? CM_OK : CM_SINGULAR;
            break;
        }
        memcpy(theta, trial, sizeof(double) * p);
        if (have_deriv) {
            swap = score; score = tscore; tscore = swap;
            swap = H; H = tH; tH = swap;
        } else {
            cm_loglik(d, theta, &lln, tr->resp, score, H, grange, work);
            resp_here = 1;
        }
        tr->path[it] = lln;
        tr->relchange = (lln - ll) / (fabs(lln) + 1.0);
        ll = lln;
        /* the last evaluation was at theta, and left its gate range */
        if (cm_gate_runaway(grange, d->K, ctl->gate_bound)) {
            status = CM_RUNAWAY;
            break;
        }
        if (fabs(tr->relchange) <= ctl->tol && ridge == 0.0) {
            status = CM_OK;
            break;
        }
    }
    tr->loglik = ll;
    if (!resp_here) cm_loglik(d, theta, &ll, tr->resp, NULL, NULL, NULL, work);
    if (tr->score) {
        /* score and H always belong to theta: a trial is adopted with its own */
        memcpy(tr->score, score, sizeof(double) * p);
        memcpy(tr->hess, H, sizeof(double) * (size_t) p * p);
        tr->deriv = 1;
    }
    return status;
}

/* .Call entry: Newton from theta. */
SEXP cm_direct_call(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                    SEXP control)
{
    return cm_run_fitter(y, xe, xg, lf0, K, mean, theta, control, cm_direct);
}
