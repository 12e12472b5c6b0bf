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

enum cm_mean { CM_LINEAR = 1, CM_TANH, CM_SIGMOID, CM_GELU, CM_RELU };
enum cm_family { CM_GAUSSIAN = 1, CM_LAPLACE, CM_STUDENT };

/* Status codes of the fitters; R turns them into classed warnings. */
enum cm_status {
    CM_OK = 0,
    CM_MAXIT = 1,      /* iteration cap reached before convergence */
    CM_NONFINITE = 2,  /* log-likelihood became NaN or infinite */
    CM_SINGULAR = 3,   /* a Newton system could not be solved */
    CM_RUNAWAY = 4     /* a gate coefficient passed its bound: no finite maximiser */
};

/* The data of one fit. lf0 holds log f0(y_i | x_i), fixed during a fit. The
 * designs are given by their columns (xe[j][i] is row i of expert column j),
 * so that the gate may share the expert design's columns without a copy. */
typedef struct {
    int n, q, pg, K, mean;
    const double *y, *lf0;
    const double **xe, **xg;
    const double **cols; /* scratch for pg + 1 + q column pointers (cm_loglik) */
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

/* likelihood.c */
int cm_loglik(const cm_data *d, const double *theta, double *ll, double *resp,
              double *score, double *hess, double *grange, double *work);
size_t cm_work_size(const cm_data *d);
void cm_xprod(const double *const *cols, int ncol, size_t i0, int len, const double *coef,
              double c0, double *out);
int cm_gate_runaway(const double *grange, int K, double bound);
int cm_chol_solve(int p, const double *a, double *b, double *fac, double ridge_start,
                  double *ridge);

/* The record of one run of a fitter. path has room for maxit + 1 values;
 * score (p) and hess (p x p) receive the derivatives at the result when the
 * fitter has them (deriv = 1), as Newton does. */
typedef struct {
    double loglik, relchange, *path, *score, *hess;
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
void cm_unpack_control(SEXP control, cm_control *ctl);
typedef int (*cm_fitter)(const cm_data *, double *, const cm_control *, cm_trace *);
SEXP cm_run_fitter(SEXP y, SEXP xe, SEXP xg, SEXP lf0, SEXP K, SEXP mean, SEXP theta,
                   SEXP control, cm_fitter fitter);

#endif
