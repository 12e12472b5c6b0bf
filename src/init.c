/* Registration of the .Call entry points. */
#include "contamoe.h"
#include <R_ext/Rdynload.h>
#include <R_ext/Visibility.h>

SEXP cm_mean_eval_call(SEXP, SEXP);
SEXP cm_log_f0_call(SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP cm_loglik_call(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP cm_mstep_call(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP cm_em_call(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP cm_direct_call(SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP, SEXP);
SEXP cm_losses_call(SEXP, SEXP, SEXP, SEXP);
SEXP cm_voronoi_call(SEXP, SEXP, SEXP);
SEXP cm_crossprod1_call(SEXP);
SEXP cm_index_mean_call(SEXP, SEXP, SEXP);

#define CALLDEF(name, fun, n) {#name, (DL_FUNC) &fun, n}

static const R_CallMethodDef call_methods[] = {
    CALLDEF(mean_eval, cm_mean_eval_call, 2),
    CALLDEF(log_f0, cm_log_f0_call, 5),
    CALLDEF(loglik, cm_loglik_call, 9),
    CALLDEF(mstep, cm_mstep_call, 9),
    CALLDEF(em, cm_em_call, 8),
    CALLDEF(direct, cm_direct_call, 8),
    CALLDEF(losses, cm_losses_call, 4),
    CALLDEF(voronoi, cm_voronoi_call, 3),
    CALLDEF(crossprod1, cm_crossprod1_call, 1),
    CALLDEF(index_mean, cm_index_mean_call, 3),
    {NULL, NULL, 0}
};

void attribute_visible R_init_contamoe(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
