/* Experts: the prompt mean functions h(u) of the index u = eta'x with their
 * first and second derivatives, and the log-density of the fixed pre-trained
 * expert f0 parameterised by its mean and its variance nu0. */
#include "contamoe.h"

#define SQRT_2PI_INV 0.398942280401432677939946059934 /* 1 / sqrt(2 pi) */

/* h(u), h'(u), h''(u) for one index value. */
void cm_mean_eval(int mean, double u, double *h, double *dh, double *d2h)
{
    switch (mean) {
    case CM_LINEAR:
        *h = u; *dh = 1.0; *d2h = 0.0;
        break;
    case CM_TANH: {
        double t = tanh(u);
        *h = t; *dh = 1.0 - t * t; *d2h = -2.0 * t * (1.0 - t * t);
        break;
    }
    case CM_SIGMOID: {
        /* exp of a non-positive number only, so no overflow for large |u| */
        double e = exp(-fabs(u));
        double s = u >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        *h = s; *dh = s * (1.0 - s); *d2h = s * (1.0 - s) * (1.0 - 2.0 * s);
        break;
    }
    case CM_GELU: {
        double phi = SQRT_2PI_INV * exp(-0.5 * u * u);
        double Phi = pnorm(u, 0.0, 1.0, 1, 0);
        *h = u * Phi; *dh = Phi + u * phi; *d2h = phi * (2.0 - u * u);
        break;
    }
    case CM_RELU:
        *h = u > 0 ? u : 0.0; *dh = u > 0 ? 1.0 : 0.0; *d2h = 0.0;
        break;
    default:
        Rf_error("unknown mean function code %d", mean);
    }
}

/* h, h' and, when d2h is non-NULL, h'' at len index values; the common
 * mean functions get their own loops. */
CM_KERNEL void cm_mean_array(int mean, int len, const double *u, double *h, double *dh,
                             double *d2h)
{
    switch (mean) {
    case CM_LINEAR:
        for (int i = 0; i < len; i++) {
            h[i] = u[i];
            dh[i] = 1.0;
        }
        if (d2h) memset(d2h, 0, sizeof(double) * len);
        break;
    case CM_TANH:
        /* tanh |u| = (1 - e) / (1 + e), e = exp(-2 |u|): one vectorised exp,
         * and as accurate as tanh in absolute terms, which is what the
         * residual needs */
#pragma omp simd
        for (int i = 0; i < len; i++) {
            double e = cm_exp_neg(-2.0 * fabs(u[i])), t = copysign((1.0 - e) / (1.0 + e), u[i]);
            h[i] = t;
            dh[i] = 1.0 - t * t;
        }
        if (d2h)
#pragma omp simd
            for (int i = 0; i < len; i++) d2h[i] = -2.0 * h[i] * dh[i];
        break;
    default: {
        double scratch;
        for (int i = 0; i < len; i++)
            cm_mean_eval(mean, u[i], h + i, dh + i, d2h ? d2h + i : &scratch);
    }
    }
}

/* log f0(y_i | m0_i, nu0) for the pre-trained family; nu0 is the variance. */
void cm_log_f0(int family, int n, const double *y, const double *m0, double nu0,
               double df, double *out)
{
    switch (family) {
    case CM_GAUSSIAN: {
        double c = -0.5 * log(2.0 * M_PI * nu0);
        for (int i = 0; i < n; i++) {
            double r = y[i] - m0[i];
            out[i] = c - 0.5 * r * r / nu0;
        }
        break;
    }
    case CM_LAPLACE: {
        double b = sqrt(nu0 / 2.0), c = -log(2.0 * b);
        for (int i = 0; i < n; i++) out[i] = c - fabs(y[i] - m0[i]) / b;
        break;
    }
    case CM_STUDENT: {
        /* scale s chosen so that the variance s^2 df / (df - 2) equals nu0 */
        double s2 = nu0 * (df - 2.0) / df;
        double c = lgammafn(0.5 * (df + 1.0)) - lgammafn(0.5 * df) -
                   0.5 * log(df * M_PI * s2);
        for (int i = 0; i < n; i++) {
            double r = y[i] - m0[i];
            out[i] = c - 0.5 * (df + 1.0) * log1p(r * r / (df * s2));
        }
        break;
    }
    default:
        Rf_error("unknown family code %d", family);
    }
}

/* log(sum(exp(a))) without overflow or underflow; -Inf when every term is
 * -Inf, +Inf when any is +Inf, NaN propagates. */
double cm_logsumexp(const double *a, int len)
{
    double amax = R_NegInf;
    for (int j = 0; j < len; j++) {
        if (ISNAN(a[j])) return a[j];
        if (a[j] > amax) amax = a[j];
    }
    if (!R_FINITE(amax)) return amax;
    double s = 0.0;
    for (int j = 0; j < len; j++) s += exp(a[j] - amax);
    return amax + log(s);
}

/* .Call entry: h, h', h'' at every element of u. */
SEXP cm_mean_eval_call(SEXP mean, SEXP u)
{
    if (!Rf_isInteger(mean) || XLENGTH(mean) != 1) Rf_error("`mean` must be one integer code");
    if (!Rf_isReal(u)) Rf_error("`u` must be a double vector");
    int code = INTEGER(mean)[0];
    if (code == NA_INTEGER || code < CM_LINEAR || code > CM_RELU) Rf_error("`mean` code is unknown");
    R_xlen_t n = XLENGTH(u);
    const char *names[] = {"h", "dh", "d2h", ""};
    SEXP out = PROTECT(Rf_mkNamed(VECSXP, names));
    SEXP h = PROTECT(Rf_allocVector(REALSXP, n));
    SEXP dh = PROTECT(Rf_allocVector(REALSXP, n));
    SEXP d2h = PROTECT(Rf_allocVector(REALSXP, n));
    for (R_xlen_t i = 0; i < n; i++)
        cm_mean_eval(code, REAL(u)[i], REAL(h) + i, REAL(dh) + i, REAL(d2h) + i);
    SET_VECTOR_ELT(out, 0, h);
    SET_VECTOR_ELT(out, 1, dh);
    SET_VECTOR_ELT(out, 2, d2h);
    UNPROTECT(4);
    return out;
}

/* .Call entry: log f0 at (y, m0) for a family code, variance nu0, df. */
SEXP cm_log_f0_call(SEXP family, SEXP y, SEXP m0, SEXP nu0, SEXP df)
{
    if (!Rf_isInteger(family) || XLENGTH(family) != 1) Rf_error("`family` must be one integer code");
    int code = INTEGER(family)[0];
    if (code == NA_INTEGER || code < CM_GAUSSIAN || code > CM_STUDENT)
        Rf_error("`family` code is unknown");
    if (!Rf_isReal(y) || !Rf_isReal(m0) || XLENGTH(y) != XLENGTH(m0))
        Rf_error("`y` and `m0` must be double vectors of equal length");
    if (XLENGTH(y) > INT_MAX) Rf_error("`y` is too long");
    if (!Rf_isReal(nu0) || XLENGTH(nu0) != 1 || !R_FINITE(REAL(nu0)[0]) || REAL(nu0)[0] <= 0)
        Rf_error("`nu0` must be one positive finite number");
    if (!Rf_isReal(df) || XLENGTH(df) != 1 ||
        (code == CM_STUDENT && !(REAL(df)[0] > 2 && R_FINITE(REAL(df)[0]))))
        Rf_error("`df` must be one finite number greater than 2");
    int n = (int) XLENGTH(y);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    cm_log_f0(code, n, REAL(y), REAL(m0), REAL(nu0)[0], REAL(df)[0], REAL(out));
    UNPROTECT(1);
    return out;
}
