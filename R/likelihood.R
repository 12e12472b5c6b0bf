# The parameter vector, the problem object and the C likelihood.
#
# Internally theta holds K blocks (beta_k, tau_k, eta_k, log nu_k) on the
# scale of the internally scaled covariates (each column divided by its root
# mean square); users see (beta, tau, eta, nu) on their own scale.

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
  s <- sqrt(colMeans(x^2))
  s[!is.finite(s) | s == 0] <- 1
  s
}

# Everything the fitters need, on plain matrices: the response, the expert
# and gate designs (scaled), log f0, K and the mean function.
cm_problem <- function(y, xe, xg, lf0, K, mean) {
  se <- column_scale(xe)
  sg <- column_scale(xg)
  q <- ncol(xe)
  pg <- ncol(xg)
  list(y = as.double(y),
       xe = sweep(xe, 2L, se, "/"), xg = sweep(xg, 2L, sg, "/"),
       lf0 = as.double(lf0), K = as.integer(K), mean_code = mean_code(mean),
       n = length(y), q = q, pg = pg,
       # theta_internal = theta_user * scale (log nu and tau unscaled)
       scale = rep(c(sg, 1, se, 1), K),
       names = theta_names(colnames(xg), colnames(xe), K))
}

to_internal <- function(prob, params) {
  params_to_theta(params, prob$pg, prob$q, prob$K) * prob$scale
}

to_user <- function(prob, theta) theta_to_params(theta / prob$scale, prob$pg, prob$q, prob$K)

# Log-likelihood (deriv = 0), plus score (1) and Hessian (2), at internal theta.
cm_loglik <- function(prob, theta, deriv = 0L) {
  storage.mode(prob$xe) <- "double"
  .Call(C_loglik, prob$y, prob$xe, prob$xg, prob$lf0, prob$K, prob$mean_code,
        as.double(theta), as.integer(deriv))
}
