# Drawing data from the model: rcmoe() for any parameter set and simulate()
# for a fit.

#' Draw data from a softmax-contaminated mixture of experts
#'
#' For each row of `x`, draws the expert from the gate (pre-trained with
#' probability \eqn{\pi_0(x)}, prompt \eqn{k} with probability
#' \eqn{\pi_k(x)}) and then the response from that expert.
#'
#' @param x Numeric matrix of expert covariates (no intercept is added: bind
#'   a column of ones for one). Columns are named `x1`, `x2`, ... when unnamed.
#' @param beta Gate slopes: a vector for one prompt, or a matrix with one
#'   column per prompt.
#' @param tau Gate intercepts, one per prompt.
#' @param eta Prompt coefficients: a vector for one prompt or a matrix with one
#'   column per prompt.
#' @param nu Prompt variances, one per prompt.
#' @param pretrained The pre-trained expert: an [expert_spec()] (its `eta`
#'   applies to the columns of `x`) or a fitted `lm`/Gaussian `glm`, predicted
#'   at `as.data.frame(x)`.
#' @param mean Mean function of the prompts.
#' @param gate_x Numeric matrix of gate covariates; `x` by default. Unnamed
#'   columns of a separate `gate_x` are named `z1`, `z2`, ....
#' @return A data frame with the response `y` and the columns of `x` (and of
#'   `gate_x` when it differs), with attribute `component`: 0 for the
#'   pre-trained expert, `k` for prompt `k`.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(16000), ncol = 8)
#' pre <- expert_spec("laplace", "tanh", eta = c(1, rep(0, 7)), nu = 0.001)
#' d <- rcmoe(x, beta = rep(1 / sqrt(8), 8), tau = 1, eta = c(-1, rep(0, 7)),
#'            nu = 0.001, pretrained = pre)
#' table(attr(d, "component"))
#' @export
rcmoe <- function(x, beta, tau, eta, nu, pretrained, mean = "tanh", gate_x = x) {
  for (arg in c("x", "beta", "tau", "eta", "nu", "pretrained")) {
    if (eval(call("missing", as.name(arg)))) abort_input(sprintf("`%s` is missing.", arg))
  }
  same_gate <- identical(gate_x, x)
  x <- check_matrix(x, "x")
  gate_x <- check_matrix(gate_x, "gate_x", prefix = if (same_gate) "x" else "z")
  if (nrow(gate_x) != nrow(x)) {
    abort_input(sprintf("`gate_x` must have %d rows like `x`, not %d.", nrow(x), nrow(gate_x)))
  }
  clash <- intersect(colnames(gate_x), colnames(x))
  if (!same_gate && length(clash) &&
      !isTRUE(all.equal(gate_x[, clash, drop = FALSE], x[, clash, drop = FALSE],
                        check.attributes = FALSE))) {
    abort_input(sprintf(
      "`gate_x` and `x` share the column names %s but not their values; rename the columns.",
      paste0("`", clash, "`", collapse = ", ")))
  }
  check_choice(mean, "mean", mean_functions)
  pretrained <- as_expert_spec(pretrained)
  tau <- check_finite_numeric(tau, "tau")
  K <- length(tau)
  if (K < 1L) abort_input("`tau` must have one element per prompt.")
  params <- list(
    beta = matrix(check_finite_numeric(beta, "beta", ncol(gate_x) * K), ncol(gate_x), K),
    tau = tau,
    eta = matrix(check_finite_numeric(eta, "eta", ncol(x) * K), ncol(x), K),
    nu = check_finite_numeric(nu, "nu", K)
  )
  if (any(params$nu <= 0)) abort_input("`nu` must be positive.")
  m0 <- pretrained_mean(pretrained, x, as.data.frame(x), design = "x")
  obj <- list(params = params, mean = mean, K = K, pretrained = pretrained)
  draw <- draw_responses(obj, x, gate_x, m0)
  out <- data.frame(y = draw$y, x)
  extra <- setdiff(colnames(gate_x), colnames(x))
  if (length(extra)) out <- cbind(out, gate_x[, extra, drop = FALSE])
  attr(out, "component") <- draw$component
  out
}

check_matrix <- function(x, arg, prefix = "x") {
  if (is.data.frame(x)) x <- as.matrix(x)
  if (is.null(dim(x)) && is.numeric(x)) x <- matrix(x, ncol = 1L)
  if (!is.matrix(x) || !is.numeric(x) || nrow(x) < 1L || ncol(x) < 1L) {
    abort_input(sprintf("`%s` must be a numeric matrix with at least one row and column, not %s.",
                        arg, describe(x)), call = sys.call(-1))
  }
  if (any(!is.finite(x))) {
    abort_input(sprintf("`%s` must not contain NA, NaN or infinite values.", arg),
                call = sys.call(-1))
  }
  nm <- colnames(x)
  if (is.null(nm)) nm <- rep("", ncol(x))
  nm[nm == ""] <- paste0(prefix, seq_len(ncol(x)))[nm == ""]
  colnames(x) <- nm
  storage.mode(x) <- "double"
  x
}

# Components and responses for designs xe, xg and pre-trained means m0.
draw_responses <- function(object, xe, xg, m0) {
  ev <- cmoe_eval(object, xe, xg, m0)
  n <- length(m0)
  cum <- ev$gate
  for (j in seq_len(ncol(cum))[-1L]) cum[, j] <- cum[, j - 1L] + cum[, j]
  component <- rowSums(stats::runif(n) > cum[, -ncol(cum), drop = FALSE])
  y <- pretrained_draw(object$pretrained, m0)
  prompt <- component > 0L
  if (any(prompt)) {
    idx <- cbind(which(prompt), component[prompt] + 1L)
    y[prompt] <- stats::rnorm(sum(prompt), ev$mean[idx], sqrt(object$params$nu[component[prompt]]))
  }
  list(y = y, component = component)
}

#' Simulate responses from a fitted model
#'
#' Draws new responses at the fitted covariates from the fitted model.
#'
#' @param object A `cmoe` fit.
#' @param nsim Number of response vectors.
#' @param seed As in [stats::simulate()].
#' @param ... Unused.
#' @return A data frame with `nsim` columns `sim_1`, `sim_2`, ... and the RNG
#'   state as attribute `seed`, as [stats::simulate()] returns.
#' @examples
#' set.seed(5)
#' x <- matrix(rnorm(500), ncol = 1, dimnames = list(NULL, "x"))
#' pre <- expert_spec("laplace", "tanh", eta = 1, nu = 0.01)
#' d <- rcmoe(x, beta = 2, tau = 0, eta = -1, nu = 0.01, pretrained = pre)
#' fit <- cmoe(y ~ x - 1, data = d, pretrained = pre)
#' head(simulate(fit, nsim = 2, seed = 1))
#' @importFrom stats simulate
#' @export
simulate.cmoe <- function(object, nsim = 1, seed = NULL, ...) {
  check_number(nsim, "nsim", lower = 1, integer = TRUE)
  if (!exists(".Random.seed", envir = .GlobalEnv, inherits = FALSE)) stats::runif(1)
  if (is.null(seed)) {
    rng_state <- get(".Random.seed", envir = .GlobalEnv)
  } else {
    old <- get(".Random.seed", envir = .GlobalEnv)
    on.exit(assign(".Random.seed", old, envir = .GlobalEnv))
    set.seed(seed)
    rng_state <- structure(seed, kind = as.list(RNGkind()))
  }
  sims <- lapply(seq_len(nsim), function(i) {
    draw_responses(object, object$xe, object$xg, object$pretrained_mean)$y
  })
  out <- as.data.frame(sims, col.names = paste0("sim_", seq_len(nsim)))
  attr(out, "seed") <- rng_state
  out
}
