# Parameter errors and the losses D1 and D2 of the minimax theory.

# A parameter list from a fit, a setting or a list, with beta (pg x K) and
# eta (q x K) as matrices; `one` requires a single prompt.
as_params <- function(x, arg, one = TRUE) {
  if (inherits(x, "cmoe")) x <- x$params
  if (inherits(x, "cmoe_setting")) x <- x$truth
  if (!is.list(x) || !all(c("beta", "tau", "eta", "nu") %in% names(x))) {
    abort_input(sprintf(
      "`%s` must be a cmoe fit, a `paper_setting()` or a list with `beta`, `tau`, `eta` and `nu`.",
      arg), call = sys.call(-1))
  }
  for (nm in c("beta", "tau", "eta", "nu")) check_finite_numeric(x[[nm]], paste0(arg, "$", nm))
  K <- length(x$tau)
  if (one && (K != 1L || length(x$nu) != 1L)) {
    abort_input(sprintf("`%s` must describe one prompt (K = 1): `tau` and `nu` of length 1; use type = \"voronoi\" for several.", arg),
                call = sys.call(-1))
  }
  if (K < 1L || length(x$nu) != K || length(x$beta) %% K != 0L || length(x$eta) %% K != 0L) {
    abort_input(sprintf(
      "`%s` must have one `tau` and one `nu` per prompt and `beta`, `eta` with one column per prompt.",
      arg), call = sys.call(-1))
  }
  if (any(x$nu <= 0)) abort_input(sprintf("`%s$nu` must be positive.", arg), call = sys.call(-1))
  list(beta = matrix(x$beta, ncol = K), tau = x$tau, eta = matrix(x$eta, ncol = K), nu = x$nu)
}

# (beta, tau, eta, nu) block by block, one block per prompt.
param_vector <- function(p) as.double(rbind(p$beta, p$tau, p$eta, p$nu))

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
#' The per-parameter errors of the minimax theory for one prompt expert
#' (parameters are compared by position, so `truth` must list the
#' coefficients in the order of the fit's covariates):
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

#' Losses between estimated and true parameters
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
#' For several prompts, `type = "voronoi"` compares \eqn{K} fitted prompts
#' with \eqn{K^*} true ones, possibly \eqn{K > K^*} (an over-specified fit).
#' Each fitted prompt \eqn{j} joins the Voronoi cell \eqn{A_i} of the true
#' prompt \eqn{i} nearest to it in \eqn{(\beta, \eta, \nu)} (Euclidean
#' distance; ties go to the lower index), and
#' \deqn{D_V = \sum_{i=1}^{K^*} \Bigl| \sum_{j \in A_i} e^{\tau_j} -
#'   e^{\tau_i^*} \Bigr| + \sum_{i=1}^{K^*} \sum_{j \in A_i} e^{\tau_j}
#'   \bigl(\|\beta_j - \beta_i^*\| + \|\eta_j - \eta_i^*\| + |\nu_j -
#'   \nu_i^*|\bigr),}
#' an empty cell contributing \eqn{e^{\tau_i^*}}. With one prompt on each
#' side it is \eqn{D_1} with \eqn{e^{\tau}} in place of \eqn{e^{\tau^*}} as
#' the weight. The cells come back as the attribute `cell`.
#'
#' @inheritParams param_errors
#' @param pretrained The pre-trained expert, an [expert_spec()] (needed for
#'   `D2`; taken from `truth` when it is a [paper_setting()]).
#' @param type `"D1"`, `"D2"` or `"voronoi"`.
#' @return A number (for `"voronoi"` with attribute `cell`: the true prompt
#'   whose cell each fitted prompt joined).
#' @examples
#' pre <- expert_spec("gaussian", "tanh", eta = c(1, 0), nu = 0.001)
#' truth <- list(beta = c(1, 1), tau = 1, eta = c(1.2, 0), nu = 0.001)
#' est <- list(beta = c(1.1, 0.9), tau = 1.05, eta = c(1.19, 0.01), nu = 0.0011)
#' cmoe_loss(est, truth, type = "D1")
#' cmoe_loss(est, truth, pre, type = "D2")
#' # two fitted prompts where one is true: both fall in its cell
#' over <- list(beta = cbind(c(1, 1), c(0.9, 1.1)), tau = c(0.3, 0.3),
#'              eta = cbind(c(1.2, 0), c(1.25, 0)), nu = c(0.001, 0.001))
#' cmoe_loss(over, truth, type = "voronoi")
#' @export
cmoe_loss <- function(estimate, truth, pretrained = NULL, type = c("D1", "D2", "voronoi")) {
  type <- check_choice(type[1L], "type", c("D1", "D2", "voronoi"))
  if (type == "voronoi") return(voronoi_loss(estimate, truth))
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
  truth <- as_params(truth, "truth")
  if (length(pretrained$eta) != length(truth$eta)) {
    abort_input(sprintf("`pretrained$eta` has length %d but `truth$eta` has length %d.",
                        length(pretrained$eta), length(truth$eta)), call = sys.call(-1))
  }
  sqrt(sum((truth$eta - pretrained$eta)^2) + (truth$nu - pretrained$nu)^2)
}

voronoi_loss <- function(estimate, truth) {
  est <- as_params(estimate, "estimate", one = FALSE)
  tru <- as_params(truth, "truth", one = FALSE)
  if (nrow(est$beta) != nrow(tru$beta) || nrow(est$eta) != nrow(tru$eta)) {
    abort_input(sprintf(
      "`estimate` and `truth` differ in dimension: beta %d vs %d, eta %d vs %d per prompt.",
      nrow(est$beta), nrow(tru$beta), nrow(est$eta), nrow(tru$eta)), call = sys.call(-1))
  }
  .Call(C_voronoi, param_vector(est), param_vector(tru), c(nrow(tru$beta), nrow(tru$eta)))
}
