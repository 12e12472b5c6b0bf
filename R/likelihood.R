# The parameter vector, the problem object and the C likelihood.
#
# Internally theta holds K blocks (beta_k, tau_k, eta_k, log nu_k); users see
# (beta, tau, eta, nu). The covariates are not copied or rescaled: every
# linear system the fitters solve is equilibrated (scaled to unit diagonal),
# which is what scaling the covariate columns would do, and Newton steps are
# invariant to linear reparametrisation, centring included.

params_to_theta <- function(params, pg, q, K) {
  as.numeric(rbind(matrix(params$beta, pg, K), params$tau, matrix(params$eta, q, K),
                   log(params$nu)))
}

theta_to_params <- function(theta, pg, q, K) {
  b <- matrix(theta, pg + q + 2L, K)
  list(beta = b[seq_len(pg), , drop = FALSE], tau = b[pg + 1L, ],
       eta = b[pg + 1L + seq_len(q), , drop = FALSE], nu = exp(b[pg + q + 2L, ]))
}

# Names of the user-scale coefficients, in theta order.
theta_names <- function(gate_names, expert_names, K) {
  one <- function(k) {
    s <- if (K == 1L) "" else as.character(k)
    c(if (length(gate_names)) paste0("beta", s, "_", gate_names), paste0("tau", s),
      if (length(expert_names)) paste0("eta", s, "_", expert_names), paste0("nu", s))
  }
  unlist(lapply(seq_len(K), one), use.names = FALSE)
}

# Column scales: root mean square, 1 for an all-zero column.
column_scale <- function(x) {
  s <- sqrt(colSums(x^2) / nrow(x))
  s[!is.finite(s) | s == 0] <- 1
  s
}

# Everything the fitters need: the response, the expert design, the gate
# design, log f0, K and the mean function. xg is a matrix, or integer column
# numbers of xe when the gate uses expert columns (shared, not copied; a gate
# design identical to xe is shared likewise).
cm_problem <- function(y, xe, xg, lf0, K, mean) {
  if (!is.double(xe)) storage.mode(xe) <- "double"
  if (is.matrix(xg) && !is.double(xg)) storage.mode(xg) <- "double"
  if (is.matrix(xg) && identical(xg, xe)) xg <- seq_len(ncol(xe))
  gate_names <- if (is.matrix(xg)) colnames(xg) else colnames(xe)[xg]
  list(y = as.double(y), xe = xe, xg = if (is.matrix(xg)) xg else as.integer(xg),
       lf0 = as.double(lf0), K = as.integer(K), mean_code = mean_code(mean),
       n = length(y), q = ncol(xe), pg = if (is.matrix(xg)) ncol(xg) else length(xg),
       names = theta_names(gate_names, colnames(xe), K))
}

# The gate design as a matrix (a copy when it shares the expert columns).
gate_matrix <- function(xe, xg) if (is.matrix(xg)) xg else xe[, xg, drop = FALSE]

to_internal <- function(prob, params) params_to_theta(params, prob$pg, prob$q, prob$K)

to_user <- function(prob, theta) theta_to_params(theta, prob$pg, prob$q, prob$K)

# Log-likelihood (deriv = 0), plus score (1) and Hessian (2), at internal theta;
# with the responsibilities unless resp = FALSE (a bare pass, for timing).
cm_loglik <- function(prob, theta, deriv = 0L, resp = TRUE) {
  .Call(C_loglik, prob$y, prob$xe, prob$xg, prob$lf0, prob$K, prob$mean_code,
        as.double(theta), as.integer(deriv), resp)
}
