/* Parameter losses of the minimax theory for one prompt expert (K = 1).
 *
 * est, truth: (beta (pg), tau, eta (q), nu) on the user's scale. out, in order:
 *   |e^tau - e^tau*|, |tau - tau*|, ||beta - beta*||, ||eta - eta*||, |nu - nu*|,
 *   D1 = |e^tau - e^tau*| + e^tau* (||dbeta|| + ||deta|| + |dnu|),
 *   D2 = |e^tau - e^tau*| r*^2 + e^tau* r* (||dbeta|| + ||deta|| + |dnu|),
 * with r* = ||(eta* - eta0, nu* - nu0)|| supplied by the caller. */
#include "contamoe.h"

static double dist2(int len, const double *a, const double *b)
{
    double s = 0.0;
    for (int j = 0; j < len; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

void cm_losses(int pg, int q, const double *est, const double *truth, double rstar, double *out)
{
    double et = exp(truth[pg]);
    out[0] = fabs(exp(est[pg]) - et);
    out[1] = fabs(est[pg] - truth[pg]);
    out[2] = dist2(pg, est, truth);
    out[3] = dist2(q, est + pg + 1, truth + pg + 1);
    out[4] = fabs(est[pg + q + 1] - truth[pg + q + 1]);
    double rest = out[2] + out[3] + out[4];
    out[5] = out[0] + et * rest;
    out[6] = out[0] * rstar * rstar + et * rstar * rest;
}

/* .Call entry: est and truth as above, dims = c(pg, q), rstar >= 0. */
SEXP cm_losses_call(SEXP est, SEXP truth, SEXP dims, SEXP rstar)
{
    if (!Rf_isInteger(dims) || XLENGTH(dims) != 2 || INTEGER(dims)[0] < 0 || INTEGER(dims)[1] < 0)
        Rf_error("`dims` must be two non-negative integers");
    int pg = INTEGER(dims)[0], q = INTEGER(dims)[1], len = pg + q + 2;
    if (!Rf_isReal(est) || XLENGTH(est) != len) Rf_error("`est` must be a double vector of length %d", len);
    if (!Rf_isReal(truth) || XLENGTH(truth) != len)
        Rf_error("`truth` must be a double vector of length %d", len);
    if (!Rf_isReal(rstar) || XLENGTH(rstar) != 1 || !(REAL(rstar)[0] >= 0))
        Rf_error("`rstar` must be one non-negative number");
    const char *names[] = {"exp_tau", "tau", "beta", "eta", "nu", "D1", "D2", ""};
    SEXP out = PROTECT(Rf_allocVector(REALSXP, 7));
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, 7));
    for (int j = 0; j < 7; j++) SET_STRING_ELT(nm, j, Rf_mkChar(names[j]));
    Rf_setAttrib(out, R_NamesSymbol, nm);
    cm_losses(pg, q, REAL(est), REAL(truth), REAL(rstar)[0], REAL(out));
    UNPROTECT(2);
    return out;
}
