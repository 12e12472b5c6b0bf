# Pure-R reference implementation of the softmax-contaminated mixture of
# experts with K = 1 prompt and tanh means,
#
#   p(y | x) = (1 - s(x)) f0(y | x) + s(x) N(y | tanh(eta'x), nu),
#   s(x)     = plogis(beta'x + tau),
#
# where the pre-trained expert f0 is fixed and enters only through the vector
# lf0 = log f0(y_i | x_i). Written from the formulas, independently of
# contamoe's C code and R internals, to check contamoe's optimum and to time
# it against plain-R fitters:
#
#   ref_loglik()   log-likelihood, analytic score and Hessian in
#                  theta = (beta, tau, eta, log nu)
#   ref_newton()   Newton with the analytic Hessian and backtracking
#   ref_em_bfgs()  EM with optim(method = "BFGS") M-steps (as in the paper)
#
# `source("bench/reference.R")` defines the functions only;
# `Rscript bench/reference.R` also checks them against contamoe on simulated
# data from the paper's two settings (needs contamoe installed).

# ---- parameters -------------------------------------------------------------

# theta = (beta[1:p], tau, eta[1:q], log nu); gate and expert use the same x
# here, so p = q = ncol(x).
ref_pack <- function(params) {
  c(params$beta, params$tau, params$eta, log(params$nu))
}

ref_unpack <- function(theta, p = (length(theta) - 2L) / 2L) {
  list(beta = theta[seq_len(p)], tau = theta[p + 1L],
       eta = theta[p + 1L + seq_len(p)], nu = exp(theta[2L * p + 2L]))
}

# log(1 + exp(a)) without overflow
log1pexp <- function(a) ifelse(a > 0, a + log1p(exp(-a)), log1p(exp(a)))

# ---- log-likelihood, score, Hessian -------------------------------------------

# l_i = log((1 - s_i) f0_i + s_i N_i)
#     = logsumexp(lf0_i, a_i + lf1_i) - log(1 + e^{a_i}),
#   a_i = beta'x_i + tau,  lf1_i = log N(y_i | tanh(eta'x_i), nu).
# With r_i = plogis(a_i + lf1_i - lf0_i) (posterior of the prompt) and
# g_i = a_i + lf1_i:
#   dl/dtheta   = r dg - s da
#   d2l/dtheta2 = r (1 - r) dg dg' + r d2g - s (1 - s) da da',
# where da = (x, 1, 0, 0), dg = da + (0, 0, dlf1/deta, dlf1/dlognu) and
#   dlf1/deta         = e h' / nu x,        e = y - h(u), h = tanh, u = eta'x
#   dlf1/dlognu       = -1/2 + e^2 / (2 nu)
#   d2lf1/deta deta'  = (e h'' - h'^2) / nu x x'
#   d2lf1/deta dlognu = -e h' / nu x
#   d2lf1/dlognu^2    = -e^2 / (2 nu)
# and h' = 1 - h^2, h'' = -2 h h'.
ref_loglik <- function(theta, y, x, lf0, deriv = 0L) {
  p <- ncol(x)
  n <- length(y)
  par <- ref_unpack(theta, p)
  a <- drop(x %*% par$beta) + par$tau
  h <- tanh(drop(x %*% par$eta))
  e <- y - h
  nu <- par$nu
  lf1 <- -0.5 * log(2 * pi * nu) - e^2 / (2 * nu)
  g <- a + lf1
  mx <- pmax(lf0, g)
  ll <- sum(mx + log(exp(lf0 - mx) + exp(g - mx)) - log1pexp(a))
  out <- list(loglik = ll)
  if (deriv < 1L) return(out)

  r <- stats::plogis(g - lf0)
  s <- stats::plogis(a)
  hp <- 1 - h^2
  du <- e * hp / nu                 # dlf1/du
  dw <- -0.5 + e^2 / (2 * nu)       # dlf1/dlognu
  gate <- r - s
  ib <- seq_len(p); it <- p + 1L; ie <- p + 1L + seq_len(p); iw <- 2L * p + 2L
  score <- numeric(2L * p + 2L)
  score[ib] <- drop(crossprod(x, gate))
  score[it] <- sum(gate)
  score[ie] <- drop(crossprod(x, r * du))
  score[iw] <- sum(r * dw)
  out$score <- score
  out$resp <- r
  if (deriv < 2L) return(out)

  v <- r * (1 - r)
  hpp <- -2 * h * hp
  wgg <- v - s * (1 - s)                    # gate-gate
  wge <- v * du                             # gate-eta
  wgw <- v * dw                             # gate-lognu
  wee <- v * du^2 + r * (e * hpp - hp^2) / nu
  wew <- v * du * dw - r * e * hp / nu
  www <- v * dw^2 - r * e^2 / (2 * nu)
  H <- matrix(0, 2L * p + 2L, 2L * p + 2L)
  H[ib, ib] <- crossprod(x, x * wgg)
  H[ib, it] <- H[it, ib] <- drop(crossprod(x, wgg))
  H[it, it] <- sum(wgg)
  H[ib, ie] <- crossprod(x, x * wge); H[ie, ib] <- t(H[ib, ie])
  H[it, ie] <- H[ie, it] <- drop(crossprod(x, wge))
  H[ib, iw] <- H[iw, ib] <- drop(crossprod(x, wgw))
  H[it, iw] <- H[iw, it] <- sum(wgw)
  H[ie, ie] <- crossprod(x, x * wee)
  H[ie, iw] <- H[iw, ie] <- drop(crossprod(x, wew))
  H[iw, iw] <- sum(www)
  out$hessian <- H
  out
}

# ---- Newton -------------------------------------------------------------------

# Newton's method with the analytic Hessian: if -H is not positive definite,
# a ridge lambda I is added (doubled until it is); the step is halved until
# the log-likelihood does not decrease. Stops when one step changes the
# log-likelihood by at most tol * (|l| + 1).
ref_newton <- function(y, x, lf0, theta0, tol = 1e-10, maxit = 200L) {
  theta <- theta0
  ev <- ref_loglik(theta, y, x, lf0, 2L)
  ll <- ev$loglik
  iter <- 0L
  converged <- FALSE
  while (iter < maxit) {
    iter <- iter + 1L
    A <- -ev$hessian
    lambda <- 0
    repeat {
      ch <- tryCatch(chol(A + diag(lambda, nrow(A))), error = function(e) NULL)
      if (!is.null(ch)) break
      lambda <- if (lambda == 0) 1e-6 * max(abs(diag(A)), 1) else 2 * lambda
    }
    step <- backsolve(ch, forwardsolve(t(ch), ev$score))
    t_ <- 1
    repeat {
      cand <- theta + t_ * step
      ll_new <- ref_loglik(cand, y, x, lf0, 0L)$loglik
      if (is.finite(ll_new) && ll_new >= ll - 1e-12 * (abs(ll) + 1)) break
      t_ <- t_ / 2
      if (t_ < 1e-10) break
    }
    if (t_ < 1e-10) { converged <- TRUE; break }   # no ascent left: at the optimum
    theta <- cand
    change <- abs(ll_new - ll) / (abs(ll) + 1)
    ll <- ll_new
    if (change <= tol) { converged <- TRUE; break }
    ev <- ref_loglik(theta, y, x, lf0, 2L)
  }
  list(theta = theta, params = ref_unpack(theta), loglik = ll, iterations = iter,
       converged = converged)
}

# ---- EM with BFGS M-steps ---------------------------------------------------------

# E-step: r_i = posterior probability of the prompt. M-step maximises the
# expected complete-data log-likelihood
#   Q = sum_i [(1 - r_i) log(1 - s_i) + r_i log s_i] + sum_i r_i lf1_i
# piece by piece: the gate (beta, tau) by BFGS on the weighted logistic
# likelihood, eta by BFGS on the weighted least squares
# sum_i r_i (y_i - tanh(eta'x_i))^2 (both with analytic gradients, started
# at the current values, optim's default reltol), then nu in closed form,
# sum r_i e_i^2 / sum r_i. Stops when one iteration changes the observed
# log-likelihood by at most tol * (|l| + 1).
ref_em_bfgs <- function(y, x, lf0, theta0, tol = 1e-8, maxit = 2000L) {
  p <- ncol(x)
  z <- cbind(x, 1)
  par <- ref_unpack(theta0, p)
  theta <- theta0
  ll <- ref_loglik(theta, y, x, lf0, 0L)$loglik
  iter <- 0L
  converged <- FALSE
  path <- ll
  while (iter < maxit) {
    iter <- iter + 1L
    # E-step
    a <- drop(x %*% par$beta) + par$tau
    h <- tanh(drop(x %*% par$eta))
    lf1 <- stats::dnorm(y, h, sqrt(par$nu), log = TRUE)
    r <- stats::plogis(a + lf1 - lf0)
    # M-step, gate: maximise sum r a - log(1 + e^a)
    gate_fn <- function(b) {
      a <- drop(z %*% b)
      -sum(r * a - log1pexp(a))
    }
    gate_gr <- function(b) -drop(crossprod(z, r - stats::plogis(drop(z %*% b))))
    og <- stats::optim(c(par$beta, par$tau), gate_fn, gate_gr, method = "BFGS")
    # M-step, prompt mean: minimise sum r (y - tanh(eta'x))^2
    eta_fn <- function(eta) sum(r * (y - tanh(drop(x %*% eta)))^2)
    eta_gr <- function(eta) {
      h <- tanh(drop(x %*% eta))
      -2 * drop(crossprod(x, r * (y - h) * (1 - h^2)))
    }
    oe <- stats::optim(par$eta, eta_fn, eta_gr, method = "BFGS")
    # M-step, prompt variance: closed form
    par <- list(beta = og$par[seq_len(p)], tau = og$par[p + 1L], eta = oe$par,
                nu = oe$value / sum(r))
    theta <- ref_pack(par)
    ll_new <- ref_loglik(theta, y, x, lf0, 0L)$loglik
    change <- abs(ll_new - ll) / (abs(ll) + 1)
    ll <- ll_new
    path <- c(path, ll)
    if (change <= tol) { converged <- TRUE; break }
  }
  list(theta = theta, params = par, loglik = ll, iterations = iter, converged = converged,
       path = path)
}

# ---- pre-trained log-densities (written out, not contamoe's) -------------------------

# Laplace with variance nu0 (scale b = sqrt(nu0 / 2)) or Gaussian, around m0.
ref_lf0 <- function(y, m0, nu0, family = c("laplace", "gaussian")) {
  family <- match.arg(family)
  if (family == "laplace") {
    b <- sqrt(nu0 / 2)
    -log(2 * b) - abs(y - m0) / b
  } else {
    stats::dnorm(y, m0, sqrt(nu0), log = TRUE)
  }
}

# The paper's data: setting name -> list(y, x, lf0, truth, pretrained).
ref_paper_data <- function(name, n, seed = 1L) {
  set.seed(seed)
  st <- contamoe::paper_setting(name, n)
  x <- st$draw_x(n)
  d <- do.call(contamoe::rcmoe, c(list(x = x), st$truth, list(pretrained = st$pretrained)))
  pre <- st$pretrained
  m0 <- tanh(drop(x %*% pre$eta))
  list(setting = st, data = d, x = x, y = d$y,
       lf0 = ref_lf0(d$y, m0, pre$nu, pre$family))
}

# Truth perturbed by N(0, sd^2): beta, tau and eta additively, nu
# multiplicatively (log nu + N(0, sd^2)).
ref_perturb <- function(truth, sd = 0.05) {
  p <- length(truth$beta)
  list(beta = truth$beta + stats::rnorm(p, 0, sd), tau = truth$tau + stats::rnorm(1, 0, sd),
       eta = truth$eta + stats::rnorm(length(truth$eta), 0, sd),
       nu = truth$nu * exp(stats::rnorm(1, 0, sd)))
}

# ---- self-check against contamoe ----------------------------------------------------

if (sys.nframe() == 0L) {
  suppressPackageStartupMessages(library(contamoe))
  cat("contamoe", format(utils::packageVersion("contamoe")), "from",
      dirname(system.file(package = "contamoe")), "\n\n")

  # 1. Score and Hessian against finite differences (numDeriv-free central
  #    differences of the log-likelihood and of the score).
  dat <- ref_paper_data("distinguishable", 2000, seed = 11)
  th <- ref_pack(ref_perturb(dat$setting$truth, 0.2))
  ev <- ref_loglik(th, dat$y, dat$x, dat$lf0, 2L)
  eps <- 1e-5
  fd_s <- vapply(seq_along(th), function(j) {
    e <- replace(numeric(length(th)), j, eps)
    (ref_loglik(th + e, dat$y, dat$x, dat$lf0)$loglik -
       ref_loglik(th - e, dat$y, dat$x, dat$lf0)$loglik) / (2 * eps)
  }, numeric(1))
  fd_h <- vapply(seq_along(th), function(j) {
    e <- replace(numeric(length(th)), j, eps)
    (ref_loglik(th + e, dat$y, dat$x, dat$lf0, 1L)$score -
       ref_loglik(th - e, dat$y, dat$x, dat$lf0, 1L)$score) / (2 * eps)
  }, numeric(length(th)))
  cat(sprintf("finite differences (n = 2000): max rel. error score %.2e, Hessian %.2e\n",
              max(abs(fd_s - ev$score)) / max(abs(ev$score)),
              max(abs(fd_h - ev$hessian)) / max(abs(ev$hessian))))
  # log-likelihood against contamoe's C code at the same point
  prob <- contamoe:::cm_problem(dat$y, dat$x, dat$x, dat$lf0, 1L, "tanh")
  lc <- contamoe:::cm_loglik(prob, contamoe:::to_internal(prob, ref_unpack(th)), 0L)$loglik
  cat(sprintf("log-likelihood vs contamoe at a perturbed point: %.3e\n\n", ev$loglik - lc))

  # 2. Optimum of ref_newton and ref_em_bfgs against cmoe(method = "direct").
  #    Optima are compared, so contamoe converges tightly: its default stop
  #    (predicted gain <= 1e-10 |loglik|) may leave 1e-5 of log-likelihood at
  #    n = 1e5, whereas ref_newton stops only after a step of relative gain
  #    below 1e-10, which in the quadratic phase is far closer.
  tol_cmoe <- 1e-13
  coef_of <- function(par) c(par$beta, par$tau, par$eta, par$nu)
  rows <- list()
  for (name in c("distinguishable", "nondist_i")) {
    for (n in c(1e4, 1e5)) {
      dat <- ref_paper_data(name, n, seed = 2L)
      start <- ref_perturb(dat$setting$truth)
      th0 <- ref_pack(start)
      t_cm <- system.time(fit <- suppressWarnings(
        cmoe(y ~ . - 1, data = dat$data, pretrained = dat$setting$pretrained,
             method = "direct", start = start, control = cmoe_control(tol = tol_cmoe))))[["elapsed"]]
      cm <- coef_of(lapply(fit$params, as.numeric))
      t_nw <- system.time(nw <- ref_newton(dat$y, dat$x, dat$lf0, th0))[["elapsed"]]
      t_em <- system.time(em <- ref_em_bfgs(dat$y, dat$x, dat$lf0, th0))[["elapsed"]]
      # contamoe's optimum evaluated by the reference likelihood
      ll_cm_ref <- ref_loglik(ref_pack(lapply(fit$params, as.numeric)), dat$y, dat$x,
                              dat$lf0)$loglik
      for (m in list(list("ref_newton", nw, t_nw), list("ref_em_bfgs", em, t_em))) {
        rows[[length(rows) + 1L]] <- data.frame(
          setting = name, n = n, method = m[[1]],
          max_abs_coef_diff = max(abs(coef_of(m[[2]]$params) - cm)),
          max_rel_coef_diff = max(abs(coef_of(m[[2]]$params) - cm) / pmax(abs(cm), 1e-3)),
          max_coef_diff_in_se = max(abs(coef_of(m[[2]]$params) - cm) / sqrt(diag(fit$vcov))),
          loglik_diff = m[[2]]$loglik - fit$loglik,
          iter = m[[2]]$iterations, iter_cmoe = fit$iterations,
          sec = m[[3]], sec_cmoe = t_cm)
      }
      cat(sprintf("%-15s n = %6g: cmoe(direct) log-lik %.6f (reference likelihood at its estimate: %+.2e)\n",
                  name, n, fit$loglik, ll_cm_ref - fit$loglik))
    }
  }
  tab <- do.call(rbind, rows)
  cat("\nReference fitters against cmoe(method = \"direct\") from the same start\n",
      "(coefficients (beta, tau, eta, nu) on the user's scale; loglik_diff = reference - contamoe)\n\n",
      sep = "")
  print(format(tab, digits = 3), row.names = FALSE)
  ok <- with(tab, ifelse(method == "ref_newton", max_rel_coef_diff < 1e-5 & abs(loglik_diff) < 1e-6,
                         max_rel_coef_diff < 1e-2 & abs(loglik_diff) < 1e-2 * (1 + abs(loglik_diff))))
  cat("\nsame optimum (Newton: rel. coef diff < 1e-5, |dl| < 1e-6; EM-BFGS: looser, it stops at 1e-8):",
      if (all(ok)) "yes" else paste("NO for rows", paste(which(!ok), collapse = ", ")), "\n")
}
