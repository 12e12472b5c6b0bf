/* Parameter losses of the minimax theory: per-parameter errors, D1 and D2 for
 * one prompt expert, and the Voronoi loss for several.
 *
 * For cm_losses: est, truth: (beta (pg), tau, eta (q), nu) on the user's scale. out, in order:
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

/* Voronoi loss of K fitted prompts against K* true ones. est (K blocks) and
 * truth (K* blocks) hold (beta (pg), tau, eta (q), nu) per prompt. Fitted
 * prompt j belongs to the cell of the true prompt i nearest to it in
 * (beta, eta, nu) (Euclidean; ties to the lower index). The loss is
 *   sum_i | sum_{j in A_i} e^tau_j - e^tau*_i |
 *       + sum_i sum_{j in A_i} e^tau_j (||beta_j - beta*_i|| + ||eta_j - eta*_i|| + |nu_j - nu*_i|),
 * an empty cell contributing e^tau*_i. cell (K) receives the 1-based cells. */
double cm_voronoi(int K, int Kstar, int pg, int q, const double *est, const double *truth,
                  int *cell)
{
    const int m = pg + q + 2;
    double loss = 0.0;
    for (int j = 0; j < K; j++) {
        const double *e = est + (size_t) j * m;
        double best = R_PosInf;
        cell[j] = 1; /* also when every distance overflows */
        for (int i = 0; i < Kstar; i++) {
            const double *t = truth + (size_t) i * m;
            double d2 = 0.0;
            for (int a = 0; a < m; a++)
                if (a != pg) d2 += (e[a] - t[a]) * (e[a] - t[a]);
            if (d2 < best) {
                best = d2;
                cell[j] = i + 1;
            }
        }
    }
    for (int i = 0; i < Kstar; i++) {
        const double *t = truth + (size_t) i * m;
        double mass = 0.0;
        for (int j = 0; j < K; j++) {
            if (cell[j] != i + 1) continue;
            const double *e = est + (size_t) j * m;
            double w = exp(e[pg]);
            mass += w;
            loss += w * (dist2(pg, e, t) + dist2(q, e + pg + 1, t + pg + 1) +
                         fabs(e[m - 1] - t[m - 1]));
        }
        loss += fabs(mass - exp(t[pg]));
    }
    return loss;
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

/* .Call entry: Voronoi loss; est and truth hold whole blocks, dims = c(pg, q).
 * Returns the loss with the cells as attribute "cell". */
SEXP cm_voronoi_call(SEXP est, SEXP truth, SEXP dims)
{
    if (!Rf_isInteger(dims) || XLENGTH(dims) != 2 || INTEGER(dims)[0] < 0 || INTEGER(dims)[1] < 0)
        Rf_error("`dims` must be two non-negative integers");
    int pg = INTEGER(dims)[0], q = INTEGER(dims)[1], m = pg + q + 2;
    if (!Rf_isReal(est) || XLENGTH(est) < m || XLENGTH(est) % m != 0)
        Rf_error("`est` must be a double vector of whole blocks of length %d", m);
    if (!Rf_isReal(truth) || XLENGTH(truth) < m || XLENGTH(truth) % m != 0)
        Rf_error("`truth` must be a double vector of whole blocks of length %d", m);
    for (R_xlen_t j = 0; j < XLENGTH(est); j++)
        if (!R_FINITE(REAL(est)[j])) Rf_error("`est` must be finite");
    for (R_xlen_t j = 0; j < XLENGTH(truth); j++)
        if (!R_FINITE(REAL(truth)[j])) Rf_error("`truth` must be finite");
    int K = (int) (XLENGTH(est) / m), Kstar = (int) (XLENGTH(truth) / m);
    SEXP cell = PROTECT(Rf_allocVector(INTSXP, K));
    SEXP out = PROTECT(Rf_ScalarReal(cm_voronoi(K, Kstar, pg, q, REAL(est), REAL(truth),
                                                INTEGER(cell))));
    Rf_setAttrib(out, Rf_install("cell"), cell);
    UNPROTECT(2);
    return out;
}
