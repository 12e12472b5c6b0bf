# Naive R references for the C core (experts.c, likelihood.c): written
# straight from the model formulas, with no attempt at efficiency, so that the
# tests compare the C code against something independent of it.

all_means <- c("linear", "tanh", "sigmoid", "gelu", "relu")
all_families <- c("gaussian", "laplace", "student")

# h(u), h'(u), h''(u) of the prompt mean functions.
naive_mean <- function(mean, u) {
  switch(mean,
    linear = list(h = u, dh = rep(1, length(u)), d2h = rep(0, length(u))),
    tanh = list(h = (exp(2 * u) - 1) / (exp(2 * u) + 1), dh = 1 / cosh(u)^2,
                d2h = -2 * sinh(u) / cosh(u)^3),
    sigmoid = list(h = 1 / (1 + exp(-u)), dh = exp(-u) / (1 + exp(-u))^2,
                   d2h = exp(-u) * (exp(-u) - 1) / (1 + exp(-u))^3),
    gelu = list(h = u * pnorm(u), dh = pnorm(u) + u * dnorm(u),
                d2h = 2 * dnorm(u) - u^2 * dnorm(u)),
    relu = list(h = ifelse(u > 0, u, 0), dh = ifelse(u > 0, 1, 0), d2h = rep(0, length(u)))
  )
}

naive_h <- function(mean, u) naive_mean(mean, u)$h

# log f0 of a residual r for a pre-trained expert of *variance* nu0.
naive_logf0 <- function(family, r, nu0, df = NA) {
  switch(family,
    gaussian = dnorm(r, 0, sqrt(nu0), log = TRUE),
    laplace = {
      b <- sqrt(nu0 / 2)
      -log(2 * b) - abs(r) / b
    },
    student = {
      s <- sqrt(nu0 * (df - 2) / df)
      dt(r / s, df, log = TRUE) - log(s)
    }
  )
}

naive_row_lse <- function(a) {
  mx <- apply(a, 1L, max)
  mx + log(rowSums(exp(a - mx)))
}

# Log-likelihood and responsibilities of the softmax-contaminated MoE at theta
# = K blocks (beta_k, tau_k, eta_k, log nu_k):
#   p(y|x) = [f0(y|x) + sum_k exp(g_k) N(y | h(eta_k'x), nu_k)] / [1 + sum_k exp(g_k)]
naive_loglik <- function(y, xe, xg, lf0, mean, theta, K) {
  n <- length(y)
  pg <- ncol(xg)
  q <- ncol(xe)
  m <- pg + q + 2L
  blocks <- matrix(theta, m, K)
  a <- matrix(0, n, K + 1L)
  gl <- matrix(0, n, K + 1L)
  a[, 1L] <- lf0
  for (k in seq_len(K)) {
    beta <- blocks[seq_len(pg), k]
    tau <- blocks[pg + 1L, k]
    eta <- blocks[pg + 1L + seq_len(q), k]
    nu <- exp(blocks[m, k])
    g <- tau + if (pg > 0L) drop(xg %*% beta) else 0
    mu <- naive_h(mean, drop(xe %*% eta))
    gl[, k + 1L] <- g
    a[, k + 1L] <- g + dnorm(y, mu, sqrt(nu), log = TRUE)
  }
  la <- naive_row_lse(a)
  list(loglik = sum(la - naive_row_lse(gl)), resp = exp(a - la))
}

# Central finite differences: gradient of a scalar f, Jacobian of a vector f
# (column j = derivative with respect to x[j]).
fd_jacobian <- function(f, x, eps = 1e-5) {
  cols <- lapply(seq_along(x), function(j) {
    e <- replace(numeric(length(x)), j, eps)
    (f(x + e) - f(x - e)) / (2 * eps)
  })
  do.call(cbind, cols)
}

fd_gradient <- function(f, x, eps = 1e-5) drop(fd_jacobian(f, x, eps))

# Relative error of a against the reference b, on the scale of b.
rel_err <- function(a, b) max(abs(a - b)) / max(1, max(abs(b)))

# A small problem: expert design with an intercept (q = 3); gate design
# "separate" (2 columns, one of them not in the expert design), "none"
# (n x 0) or "same" (the expert design without its intercept). y is drawn
# from a pre-trained / prompt mixture so that both kinds of expert matter.
lik_case <- function(family, mean, K, gate = "separate", n = 120, seed = 1, df = 5) {
  set.seed(seed)
  x1 <- rnorm(n)
  x2 <- rnorm(n)
  w <- runif(n, -1, 1)
  xe <- cbind("(Intercept)" = 1, x1 = x1, x2 = x2)
  xg <- switch(gate,
    separate = cbind(x1 = x1, w = w),
    none = matrix(0, n, 0),
    same = xe[, -1L, drop = FALSE],
    shared = 2:3 # the same columns, shared with the expert design (no copy)
  )
  df <- if (family == "student") df else NA_real_
  eta0 <- c(0.2, 0.8, -0.5)
  nu0 <- 0.25
  m0 <- naive_h(mean, drop(xe %*% eta0))
  from_prompt <- runif(n) < 0.5
  mu1 <- naive_h(mean, drop(xe %*% c(-0.3, -0.6, 0.9)))
  y <- ifelse(from_prompt, mu1 + rnorm(n, sd = 0.4), m0 + rnorm(n, sd = sqrt(nu0)))
  spec <- expert_spec(family, mean, eta = eta0, nu = nu0,
                      df = if (family == "student") df)
  lf0 <- pretrained_logdens(spec, y, m0)
  prob <- cm_problem(y, xe, xg, lf0, K, mean)
  list(prob = prob, lf0_naive = naive_logf0(family, y - m0, nu0, df), xe = xe, xg = xg,
       y = y, spec = spec, m0 = m0)
}

# Random internal theta for a problem; for relu every index eta_k'x_i is kept
# at least `margin` away from the kink, so finite differences never cross it.
random_theta <- function(prob, seed = 2, margin = 0.02) {
  set.seed(seed)
  m <- prob$pg + prob$q + 2L
  one_block <- function() {
    repeat {
      eta <- rnorm(prob$q, 0, 0.8)
      if (prob$mean != "relu" || min(abs(prob$xe %*% eta)) > margin) break
    }
    c(rnorm(prob$pg, 0, 0.7), rnorm(1, 0, 0.5), eta, log(runif(1, 0.15, 0.6)))
  }
  as.numeric(replicate(prob$K, one_block()))
}

# The naive log-likelihood of a problem built by cm_problem() (internal scale).
naive_problem_loglik <- function(prob, theta, lf0 = prob$lf0) {
  naive_loglik(prob$y, prob$xe, prob$xg, lf0, prob$mean, theta, prob$K)
}
