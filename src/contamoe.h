/* contamoe: shared declarations for the C core.
 *
 * Parameter layout (the vector `theta` everywhere): K blocks, one per prompt
 * expert, each of length m = pg + 1 + q + 1:
 *     beta_k (pg), tau_k (1), eta_k (q), log nu_k (1).
 * Matrices are column major (R's layout). */
#ifndef CONTAMOE_H
#define CONTAMOE_H

#define R_NO_REMAP
#define USE_FC_LEN_T
#include <R.h>
#include <Rinternals.h>
#include <Rmath.h>
#include <R_ext/BLAS.h>
#include <R_ext/Lapack.h>
#ifndef FCONE
#define FCONE
#endif

#include <stdint.h>

/* The vectorised kernels are also compiled for AVX2 with FMA and for
 * AVX-512, chosen at load time on x86-64 Linux with GCC 11 or later
 * (function multiversioning); elsewhere they are compiled once for the
 * baseline instruction set. */
#if defined(__GNUC__) && __GNUC__ >= 11 && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__)
#define CM_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CM_KERNEL
#endif

/* Work arrays start on a 64-byte boundary (a cache line, one AVX-512
 * vector), so that no vector load of a chunk vector straddles two lines;
 * a work size includes CM_ALIGN_SLACK doubles for the rounding up. */
#define CM_ALIGN_SLACK 8
static inline double *cm_align(double *p)
{
    return (double *) (((uintptr_t) p + 63) & ~(uintptr_t) 63);
}

/* Probabilities below exp(-300) are taken as 0 (and their complements as
 * 1). Their squares and products would otherwise be subnormal numbers, on
 * which x86 arithmetic is some hundred times slower (a Hessian pass of the
 * paper's distinguishable setting took a third longer), and no sum they
 * enter can tell them from 0: exp(-300) is 5e-131.
 *
 * exp(x) for x <= 0, within 1 ulp of exp(); 0 below -300 (and for
 * -Inf), NaN for NaN. Written without branches or library calls, so that
 * loops over it vectorise, which the C library's exp() does not: Cody-Waite
 * reduction x = k log 2 + r with |r| <= log(2) / 2, the Taylor polynomial of
 * degree 13 for exp(r) (truncation error below 1e-17), 2^k assembled in the
 * exponent bits, and the range applied by an integer mask (a select would
 * let the compiler move arithmetic into a branch, which stops
 * vectorisation). */
typedef union {
    double d;
    uint64_t u;
} cm_bits;

/* a where s has its sign bit set (s < 0), b elsewhere, by an integer mask
 * (see cm_exp_neg()). */
static inline double cm_if_neg(double s, double a, double b)
{
    cm_bits bs, ba, bb;
    bs.d = s;
    ba.d = a;
    bb.d = b;
    const uint64_t m = -(bs.u >> 63);
    ba.u = (ba.u & m) | (bb.u & ~m);
    return ba.d;
}

static inline double cm_exp_neg(double x)
{
    const double shift = 0x1.8p52, log2e = 1.4426950408889634074;
    const double ln2hi = 0x1.62e42fefa3800p-1, ln2lo = 0x1.ef35793c76730p-45;
    cm_bits k, ax, y;
    k.d = x * log2e + shift; /* k = round(x / log 2) in the low bits */
    const double kd = k.d - shift, r = (x - kd * ln2hi) - kd * ln2lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    y.u = (k.u + 1023) << 52; /* 2^k: k + 1023 in the exponent field */
    y.d *= p;
    /* all ones when |x| <= 300 (the bits of 300.0 are 0x4072c...),
     * else 0: the sign bit of |x| - 300 in the integer order of the bits */
    ax.d = x;
    ax.u &= 0x7fffffffffffffffULL;
    y.u &= -((ax.u - 0x4072c00000000001ULL) >> 63);
    return y.d + (x != x ? x : 0.0);
}

/* log(1 + e) for 0 <= e <= 1, within 2 ulp of log1p(), without branches
 * or library calls (see cm_exp_neg()): log(1 + e) = 2 atanh(s) with
 * s = e / (2 + e) <= 1/3, the series 2 (s + s^3/3 + ... + s^35/35), whose
 * remainder is below 1e-17 relative. */
static inline double cm_log1p_unit(double e)
{
    const double s = e / (2.0 + e), s2 = s * s;
    double p = 1.0 / 35.0;
    p = p * s2 + 1.0 / 33.0;
    p = p * s2 + 1.0 / 31.0;
    p = p * s2 + 1.0 / 29.0;
    p = p * s2 + 1.0 / 27.0;
    p = p * s2 + 1.0 / 25.0;
    p = p * s2 + 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    return 2.0 * s * p;
}

enum cm_mean { CM_LINEAR = 1, CM_TANH, CM_SIGMOID, CM_GELU, CM_RELU };
enum cm_family { CM_GAUSSIAN = 1, CM_LAPLACE, CM_STUDENT };

/* Status codes of the fitters; R turns them into classed warnings. */
enum cm_status {
    CM_OK = 0,
    CM_MAXIT = 1,      /* iteration cap reached before convergence */
    CM_NONFINITE = 2,  /* log-likelihood became NaN or infinite */
    CM_SINGULAR = 3,   /* a Newton system could not be solved */
    CM_RUNAWAY = 4     /* the gate ran off (cm_gate_runaway()): no finite maximiser */
};

/* The data of one fit. lf0 holds log f0(y_i | x_i), fixed during a fit. The
 * designs are given by their columns (xe[j][i] is row i of expert column j),
 * so that the gate may share the expert design's columns without a copy. */
typedef struct {
    int n, q, pg, K, mean;
    const double *y, *lf0;
    const double **xe, **xg;
    const double **cols; /* scratch: pg + 1 + q column pointers (cm_loglik, M-step) */
    int gate_off;        /* xg[j] == xe[j + gate_off] for every j, or -1 */
} cm_data;

/* Stopping rules and floors. */
typedef struct {
    int maxit, inner_maxit;
    double tol, lognu_min, gate_bound;
} cm_control;

static inline int cm_block(const cm_data *d) { return d->pg + d->q + 2; }
static inline int cm_npar(const cm_data *d) { return d->K * cm_block(d); }

/* experts.c */
void cm_mean_eval(int mean, double u, double *h, double *dh, double *d2h);
void cm_mean_array(int mean, int len, const double *u, double *h, double *dh, double *d2h);
void cm_log_f0(int family, int n, const double *y, const double *m0, double nu0,
               double df, double *out);
double cm_logsumexp(const double *a, int len);

/* likelihood.c: rows are processed in chunks of CM_CHUNK */
#define CM_CHUNK 256

/* Copy the upper triangle of the p x p matrix a (column-major) to its lower
 * triangle: the cross products are accumulated in the upper one only. */
static inline void cm_mirror_upper(int p, double *a)
{
    for (int b = 0; b < p; b++)
        for (int r = 0; r < b; r++) a[(size_t) r * p + b] = a[(size_t) b * p + r];
}

/* The number of rows in the chunk of n rows that starts at row i0. */
static inline int cm_chunk_len(int n, int i0) { return n - i0 < CM_CHUNK ? n - i0 : CM_CHUNK; }

int cm_loglik(const cm_data *d, const double *theta, double *ll, double *resp,
              double *score, double *hess, double *grange, double *work);
size_t cm_work_size(const cm_data *d);
void cm_xprod(const double *const *cols, int ncol, size_t i0, int len, const double *coef,
              double c0, double *out);
void cm_acc_cross(int B, const double *c, const double *const *A, int na,
                  const double *const *C, int nc, int tri, double *out, int ld, int row0,
                  int col0, double *tmp);
int cm_gate_runaway(const double *grange, int K, double bound);
int cm_chol_solve(int p, const double *a, double *b, double *fac, double ridge_start,
                  double *ridge);

/* The record of one run of a fitter. path has room for maxit + 1 values;
 * resp (n x (K+1)) receives the posterior responsibilities at the result;
 * score (p) and hess (p x p) receive the derivatives at the result when the
 * fitter has them (deriv = 1), as Newton does. */
typedef struct {
    double loglik, relchange, *path, *resp, *score, *hess;
    int iter, deriv;
} cm_trace;

/* em.c */
size_t cm_mstep_work_size(const cm_data *d);
int cm_mstep(const cm_data *d, const double *resp, double *theta, const cm_control *ctl,
             double *work);
int cm_em(const cm_data *d, double *theta, const cm_control *ctl, cm_trace *tr);

/* direct.c */
int cm_direct(const cm_data *d, double *theta, const cm_control *ctl, cm_trace *tr);

/* loss.c */
void cm_losses(int pg, int q, const double *est, const double *truth, double rstar, double *out);
double cm_voronoi(int K, int Kstar, int pg, int q, const double *est, const double *truth,
                  int *cell);

/* .Call boundary helpers (likelihood.c, em.c) */
void cm_unpack_data(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, cm_data *d);
void cm_unpack_theta(SEXP theta, const cm_data *d);
typedef int (*cm_fitter)(const cm_data *, double *, const cm_control *, cm_trace *);
SEXP cm_run_fitter(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                   SEXP control, cm_fitter fitter);

#endif
