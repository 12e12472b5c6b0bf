# Parameter errors and the losses D1 and D2 of the minimax theory.

# A parameter list (beta, tau, eta, nu) from a fit, a setting or a list.
as_params <- function(x, arg) {
  if (inherits(x, "cmoe")) return(x$params)
  if (inherits(x, "cmoe_setting")) return(x$truth)
  if (!is.list(x) || !all(c("beta", "tau", "eta", "nu") %in% names(x))) {
    abort_input(sprintf(
      "`%s` must be a cmoe fit, a `paper_setting()` or a list with `beta`, `tau`, `eta` and `nu`.",
      arg), call = sys.call(-1))
  }
  for (nm in c("beta", "tau", "eta", "nu")) check_finite_numeric(x[[nm]], paste0(arg, "$", nm))
  if (length(x$tau) != 1L || length(x$nu) != 1L) {
    abort_input(sprintf("`%s` must describe one prompt (K = 1): `tau` and `nu` of length 1.", arg),
                call = sys.call(-1))
  }
  if (x$nu <= 0) abort_input(sprintf("`%s$nu` must be positive.", arg), call = sys.call(-1))
  x
}

param_vector <- function(p) as.double(c(p$beta, p$tau, p$eta, p$nu))

losses <- function(estimate, truth, rstar = 0) {
  est <- as_params(estimate, "estimate")
  tru <- as_params(truth, "truth")
  if (length(est$beta) != length(tru$beta) || length(est$eta) != length(tru$eta)) {
    abort_input(sprintf(
      "`estimate` and `truth` differ in dimension: beta %d vs %d, eta %d vs %d.",
      length(est$beta), length(tru$beta), length(est$eta), length(tru$eta)), call = sys.call(-1))
  }
  .Call(C_losses, param_vector(est), param_vector(tru),
        c(length(tru$beta), length(tru$eta)), as.double(rstar))
}

#' Parameter estimation errors
#'
#' The per-parameter errors of the minimax theory for one prompt expert:
#' \eqn{|e^{\hat\tau} - e^{\tau^*}|}, \eqn{|\hat\tau - \tau^*|},
#' \eqn{\|\hat\beta - \beta^*\|}, \eqn{\|\hat\eta - \eta^*\|} and
#' \eqn{|\hat\nu - \nu^*|} (Euclidean norms).
#'
#' @param estimate A [cmoe()] fit or a list with `beta`, `tau`, `eta`, `nu`.
#' @param truth The true parameters: a list as `estimate`, or a
#'   [paper_setting()].
#' @return A named vector `exp_tau`, `tau`, `beta`, `eta`, `nu`.
#' @seealso [cmoe_loss()]
#' @examples
#' truth <- list(beta = c(1, 1), tau = 1, eta = c(-1, 0), nu = 0.001)
#' est <- list(beta = c(1.1, 0.9), tau = 1.05, eta = c(-0.98, 0.01), nu = 0.0011)
#' param_errors(est, truth)
#' @export
param_errors <- function(estimate, truth) losses(estimate, truth)[1:5]

#' Losses D1 and D2 between estimated and true parameters
#'
#' With \eqn{(\Delta\eta^*, \Delta\nu^*) = (\eta^* - \eta_0, \nu^* - \nu_0)}
#' and \eqn{r^* = \|(\Delta\eta^*, \Delta\nu^*)\|},
#' \deqn{D_1(G, G^*) = |e^{\tau} - e^{\tau^*}| + e^{\tau^*}(\|\beta -
#'   \beta^*\| + \|\eta - \eta^*\| + |\nu - \nu^*|),}
#' \deqn{D_2(G, G^*) = |e^{\tau} - e^{\tau^*}| r^{*2} + e^{\tau^*} r^*
#'   (\|\beta - \beta^*\| + \|\eta - \eta^*\| + |\nu - \nu^*|).}
#' \eqn{D_1} is the loss of the distinguishable setting, where every parameter
#' is estimated at the rate \eqn{n^{-1/2}}. \eqn{D_2} is the loss of the
#' non-distinguishable setting (a Gaussian pre-trained expert with the prompt's
#' mean function), where the paper shows \eqn{|e^{\hat\tau} - e^{\tau^*}|
#' \asymp n^{-1/2} r^{*-2}} and the other errors \eqn{\asymp n^{-1/2}
#' r^{*-1}}, so that \eqn{D_2 \asymp n^{-1/2}} uniformly.
#'
#' @inheritParams param_errors
#' @param pretrained The pre-trained expert, an [expert_spec()] (needed for
#'   `D2`; taken from `truth` when it is a [paper_setting()]).
#' @param type `"D1"` or `"D2"`.
#' @return A number.
#' @examples
#' pre <- expert_spec("gaussian", "tanh", eta = c(1, 0), nu = 0.001)
#' truth <- list(beta = c(1, 1), tau = 1, eta = c(1.2, 0), nu = 0.001)
#' est <- list(beta = c(1.1, 0.9), tau = 1.05, eta = c(1.19, 0.01), nu = 0.0011)
#' cmoe_loss(est, truth, type = "D1")
#' cmoe_loss(est, truth, pre, type = "D2")
#' @export
cmoe_loss <- function(estimate, truth, pretrained = NULL, type = c("D1", "D2")) {
  type <- check_choice(type[1L], "type", c("D1", "D2"))
  if (is.null(pretrained) && inherits(truth, "cmoe_setting")) pretrained <- truth$pretrained
  rstar <- 0
  if (type == "D2") {
    if (!inherits(pretrained, "expert_spec")) {
      abort_input("`pretrained` must be an `expert_spec()` for the loss D2, which needs eta0 and nu0.")
    }
    rstar <- distance_to_pretrained(as_params(truth, "truth"), pretrained)
  }
  unname(losses(estimate, truth, rstar)[[type]])
}

# r* = ||(eta* - eta0, nu* - nu0)||.
distance_to_pretrained <- function(truth, pretrained) {
  if (length(pretrained$eta) != length(truth$eta)) {
    abort_input(sprintf("`pretrained$eta` has length %d but `truth$eta` has length %d.",
                        length(pretrained$eta), length(truth$eta)), call = sys.call(-1))
  }
  sqrt(sum((truth$eta - pretrained$eta)^2) + (truth$nu - pretrained$nu)^2)
}
