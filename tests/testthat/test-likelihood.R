# Likelihood: cm_loglik() (C) against the naive R reference of
# helper-likelihood.R; responsibilities; score and Hessian against finite
# differences; numerical stability; known answers.

test_that("the naive reference is the model formula p = (1 - s) f0 + s N", {
  # guards the reference itself: for K = 1, no log space at all
  cs <- lik_case("laplace", "tanh", K = 1L, n = 60)
  prob <- cs$prob
  theta <- random_theta(prob, seed = 3)
  beta <- theta[1:2]
  tau <- theta[3]
  eta <- theta[4:6]
  nu <- exp(theta[7])
  s <- plogis(drop(prob$xg %*% beta) + tau)
  f0 <- exp(-abs(cs$y - cs$m0) / sqrt(0.25 / 2)) / (2 * sqrt(0.25 / 2))
  fp <- exp(-(prob$y - tanh(drop(prob$xe %*% eta)))^2 / (2 * nu)) / sqrt(2 * pi * nu)
  direct <- sum(log((1 - s) * f0 + s * fp))
  expect_equal(naive_problem_loglik(prob, theta)$loglik, direct, tolerance = 1e-12)
  expect_equal(cm_loglik(prob, theta)$loglik, direct, tolerance = 1e-12)
  expect_equal(cm_loglik(prob, theta)$resp[, 2], s * fp / ((1 - s) * f0 + s * fp),
               tolerance = 1e-12)
})

test_that("a K = 1 chunk with a zero pre-trained density is exact by the general path", {
  # n = 600: chunks of 256, 256 and 88 rows; row 300 has f0 = 0, so its
  # chunk's fast (vectorised) sum is not finite and the chunk is redone row
  # by row; with f0 = exp(-1e300) instead the fast path gives the same row
  cs <- lik_case("gaussian", "tanh", K = 1L, gate = "same", n = 600, seed = 8)
  theta <- random_theta(cs$prob, seed = 9)
  general <- cs$prob
  general$lf0[300] <- -Inf
  fast <- cs$prob
  fast$lf0[300] <- -1e300
  got <- cm_loglik(general, theta, 2L)
  ref <- naive_problem_loglik(general, theta)
  expect_equal(got$loglik, ref$loglik, tolerance = 1e-12)
  expect_equal(got$resp, ref$resp, tolerance = 1e-12)
  expect_identical(got$resp[300, ], c(0, 1))
  quick <- cm_loglik(fast, theta, 2L)
  expect_equal(got$loglik, quick$loglik, tolerance = 1e-14)
  expect_equal(got$score, quick$score, tolerance = 1e-13)
  expect_equal(got$hessian, quick$hessian, tolerance = 1e-13)
})

test_that("log-likelihood and responsibilities match the naive reference", {
  designs <- c("separate", "none", "same")
  for (family in all_families) for (mean in all_means) for (K in 1:3) {
    gate <- designs[(K + match(mean, all_means)) %% 3 + 1]
    cs <- lik_case(family, mean, K, gate = gate, n = 80,
                   seed = 100 * K + match(mean, all_means))
    prob <- cs$prob
    theta <- random_theta(prob, seed = K + 7 * match(family, all_families))
    what <- sprintf("%s / %s / K = %d / gate %s", family, mean, K, gate)
    got <- cm_loglik(prob, theta)
    ref <- naive_problem_loglik(prob, theta, lf0 = cs$lf0_naive)
    expect_equal(got$loglik, ref$loglik, tolerance = 1e-12, label = what)
    expect_identical(dim(got$resp), c(prob$n, K + 1L))
    expect_equal(rowSums(got$resp), rep(1, prob$n), tolerance = 1e-14,
                 label = paste("resp sums:", what))
    expect_true(all(got$resp >= 0 & got$resp <= 1))
    expect_equal(got$resp, ref$resp, tolerance = 1e-12, label = paste("resp:", what))
    expect_null(got$score)
    expect_null(got$hessian)
  }
})

test_that("designs: intercept column, gate design of its own, gate with no columns", {
  cs <- lik_case("gaussian", "tanh", K = 2L, gate = "separate", n = 50)
  expect_identical(c(cs$prob$q, cs$prob$pg), c(3L, 2L))
  expect_length(random_theta(cs$prob), 2 * (2 + 1 + 3 + 1))
  cs0 <- lik_case("gaussian", "tanh", K = 2L, gate = "none", n = 50)
  expect_identical(c(cs0$prob$q, cs0$prob$pg), c(3L, 0L))
  theta0 <- random_theta(cs0$prob)
  expect_length(theta0, 2 * (1 + 3 + 1))
  expect_equal(cm_loglik(cs0$prob, theta0)$loglik,
               naive_problem_loglik(cs0$prob, theta0)$loglik, tolerance = 1e-12)
  # a wrong theta length is an R error, never a crash
  expect_error(cm_loglik(cs0$prob, c(theta0, 0)))
})

test_that("the internal scaling of cm_problem() leaves the likelihood unchanged", {
  # likelihood on the user's scale (raw designs, user parameters) equals the
  # likelihood of the scaled problem at to_internal(params)
  for (K in 1:2) {
    cs <- lik_case("student", "sigmoid", K, gate = "separate", n = 70, seed = 40 + K)
    set.seed(50 + K)
    params <- list(beta = matrix(rnorm(2 * K), 2, K), tau = rnorm(K),
                   eta = matrix(rnorm(3 * K), 3, K), nu = runif(K, 0.2, 1))
    raw <- naive_loglik(cs$y, cs$xe, cs$xg, cs$lf0_naive, "sigmoid",
                        as.numeric(rbind(params$beta, params$tau, params$eta, log(params$nu))), K)
    theta <- to_internal(cs$prob, params)
    expect_equal(cm_loglik(cs$prob, theta)$loglik, raw$loglik, tolerance = 1e-12)
    expect_equal(cm_loglik(cs$prob, theta)$resp, raw$resp, tolerance = 1e-12)
  }
})

test_that("the paper's problem (paper_problem()) matches the naive reference", {
  pd <- paper_data(150, seed = 3, d = 3)
  x <- pd$x
  lf0 <- naive_logf0("laplace", pd$data$y - tanh(x[, 1]), 0.001)
  for (K in 1:2) {
    prob <- paper_problem(pd, K = K)
    expect_equal(prob$lf0, lf0, tolerance = 1e-13)
    tr <- pd$truth
    params <- list(beta = matrix(tr$beta, 3, K), tau = tr$tau - log(K) + 0.1 * seq_len(K),
                   eta = matrix(tr$eta, 3, K) + 0.05 * (seq_len(K) - 1), nu = rep(tr$nu, K))
    raw <- naive_loglik(pd$data$y, x, x, lf0, "tanh",
                        as.numeric(rbind(params$beta, params$tau, params$eta, log(params$nu))), K)
    got <- cm_loglik(prob, to_internal(prob, params))
    expect_equal(got$loglik, raw$loglik, tolerance = 1e-12)
    expect_equal(got$resp, raw$resp, tolerance = 1e-10)
    expect_equal(rowSums(got$resp), rep(1, 150), tolerance = 1e-14)
  }
})

test_that("the analytic score and Hessian agree with finite differences", {
  for (family in all_families) for (mean in all_means) for (K in 2:3) {
    gate <- if (K == 2L) "separate" else "none"
    cs <- lik_case(family, mean, K, gate = gate, n = 60,
                   seed = 10 * K + match(mean, all_means))
    prob <- cs$prob
    theta <- random_theta(prob, seed = 3 * K + match(family, all_families))
    what <- sprintf("%s / %s / K = %d", family, mean, K)
    got <- cm_loglik(prob, theta, 2L)
    expect_length(got$score, length(theta))
    expect_identical(dim(got$hessian), rep(length(theta), 2))
    expect_identical(got$hessian, t(got$hessian))
    expect_equal(got$loglik, cm_loglik(prob, theta, 0L)$loglik)
    expect_identical(got$resp, cm_loglik(prob, theta, 1L)$resp)
    fd_score <- fd_gradient(function(th) cm_loglik(prob, th)$loglik, theta)
    expect_lt(rel_err(got$score, fd_score), 1e-5, label = paste("score:", what))
    fd_hess <- fd_jacobian(function(th) cm_loglik(prob, th, 1L)$score, theta)
    expect_lt(rel_err(got$hessian, fd_hess), 1e-5, label = paste("Hessian:", what))
    expect_equal(cm_loglik(prob, theta, 1L)$score, got$score)
    expect_null(cm_loglik(prob, theta, 1L)$hessian)
    bare <- cm_loglik(prob, theta, 2L, resp = FALSE)
    expect_null(bare$resp)
    expect_identical(bare[c("loglik", "score", "hessian")], got[c("loglik", "score", "hessian")])
  }
})

test_that("a gate sharing the expert columns gives what a copy of them gives", {
  # the shared path sums each product of expert columns once for three weights
  for (K in 1:3) for (mean in c("tanh", "gelu")) {
    copy <- lik_case("gaussian", mean, K, gate = "same", n = 600, seed = 80 + K)
    shared <- lik_case("gaussian", mean, K, gate = "shared", n = 600, seed = 80 + K)
    expect_identical(shared$prob$xg, 2:3)
    theta <- random_theta(copy$prob, seed = 90 + K)
    a <- cm_loglik(copy$prob, theta, 2L)
    b <- cm_loglik(shared$prob, theta, 2L)
    expect_equal(b$loglik, a$loglik, tolerance = 1e-13)
    expect_equal(b$score, a$score, tolerance = 1e-12)
    expect_equal(b$hessian, a$hessian, tolerance = 1e-12)
    expect_identical(b$hessian, t(b$hessian))
  }
  # and the paper's design, where the gate is the whole expert design
  pd <- paper_data(500, seed = 6, d = 3)
  prob <- paper_problem(pd, K = 2L)
  expect_identical(prob$xg, 1:3)
  sep <- prob
  sep$xg <- pd$x + 0 # a copy: the general path
  theta <- random_theta(prob, seed = 7)
  a <- cm_loglik(sep, theta, 2L)
  b <- cm_loglik(prob, theta, 2L)
  expect_equal(b$score, a$score, tolerance = 1e-12)
  expect_equal(b$hessian, a$hessian, tolerance = 1e-12)
})

test_that("the score and Hessian of K = 1 agree with finite differences", {
  for (mean in all_means) for (gate in c("same", "shared")) {
    cs <- lik_case("laplace", mean, 1L, gate = gate, n = 60, seed = 70)
    prob <- cs$prob
    theta <- random_theta(prob, seed = 71)
    got <- cm_loglik(prob, theta, 2L)
    fd_score <- fd_gradient(function(th) cm_loglik(prob, th)$loglik, theta)
    fd_hess <- fd_jacobian(function(th) cm_loglik(prob, th, 1L)$score, theta)
    expect_lt(rel_err(got$score, fd_score), 1e-5, label = paste("score:", mean))
    expect_lt(rel_err(got$hessian, fd_hess), 1e-5, label = paste("Hessian:", mean))
  }
})

test_that("small prompt variance and huge residuals stay finite", {
  n <- 50
  set.seed(80)
  x <- cbind(1, rnorm(n))
  for (family in all_families) {
    spec <- expert_spec(family, "linear", eta = c(0, 1), nu = 1e-3,
                        df = if (family == "student") 5)
    m0 <- drop(x %*% spec$eta)
    # residuals of size 1e3 for the pre-trained expert and the prompt
    y <- m0 + 1e3 * sample(c(-1, 1), n, replace = TRUE)
    lf0 <- pretrained_logdens(spec, y, m0)
    prob <- cm_problem(y, x, x[, 2, drop = FALSE], lf0, 2L, "tanh")
    theta <- c(0.3, 0.5, 0.2, -0.1, log(1e-3), -0.4, -1, 1, 0.5, log(1e-3))
    got <- cm_loglik(prob, theta, 2L)
    ref <- naive_problem_loglik(prob, theta)
    expect_true(is.finite(got$loglik), label = family)
    expect_equal(got$loglik, ref$loglik, tolerance = 1e-12)
    expect_false(anyNA(got$resp))
    expect_equal(rowSums(got$resp), rep(1, n), tolerance = 1e-14)
    expect_equal(got$resp, ref$resp, tolerance = 1e-12)
    expect_true(all(is.finite(got$score)))
    expect_true(all(is.finite(got$hessian)))

    # the other way round: y right on the prompt mean, 1e3 away from f0
    y2 <- tanh(drop(x %*% c(0.2, -0.1))) + rnorm(n, sd = 0.03)
    m02 <- y2 + 1e3
    prob2 <- cm_problem(y2, x, x[, 2, drop = FALSE], pretrained_logdens(spec, y2, m02),
                        2L, "tanh")
    got2 <- cm_loglik(prob2, theta, 2L)
    ref2 <- naive_problem_loglik(prob2, theta)
    expect_true(is.finite(got2$loglik))
    expect_equal(got2$loglik, ref2$loglik, tolerance = 1e-12)
    expect_false(anyNA(got2$resp))
    expect_equal(got2$resp, ref2$resp, tolerance = 1e-12)
    expect_true(all(is.finite(got2$score)) && all(is.finite(got2$hessian)))
  }
})

test_that("a prompt with zero gate weight gives the pre-trained log-likelihood", {
  cs <- lik_case("student", "gelu", K = 1L, gate = "separate", n = 100, seed = 90)
  prob <- cs$prob
  theta <- random_theta(prob, seed = 91)
  lN <- dnorm(prob$y, naive_h("gelu", drop(prob$xe %*% theta[4:6])), exp(theta[7] / 2),
              log = TRUE)
  for (tau in c(-30, -745, -1e4)) {
    th <- replace(theta, 1:3, c(0, 0, tau))
    got <- cm_loglik(prob, th, 2L)
    # log p = log(f0 + e^g N) - log(1 + e^g) with g = tau for every observation
    expect_equal(got$loglik,
                 sum(cs$lf0_naive + log1p(exp(tau + lN - cs$lf0_naive))) - 100 * log1p(exp(tau)),
                 tolerance = 1e-13)
    expect_equal(got$loglik, sum(cs$lf0_naive), tolerance = 1e-10)
    expect_equal(got$resp[, 1], 1 / (1 + exp(tau + lN - cs$lf0_naive)), tolerance = 1e-13)
    if (tau <= -745) expect_equal(got$resp[, 1], rep(1, 100), tolerance = 1e-15)
    expect_true(all(is.finite(got$score)) && all(is.finite(got$hessian)))
  }
  th <- replace(theta, 1:3, c(0, 0, -1e4))
  # exp(-1e4) is exactly 0: only summation order separates the two
  expect_equal(cm_loglik(prob, th)$loglik, sum(prob$lf0), tolerance = 1e-14)
  expect_identical(cm_loglik(prob, th)$resp[, 2], rep(0, 100))
})

test_that("a switched-off prompt drops out: K = 3 with one off equals K = 2", {
  cs3 <- lik_case("laplace", "sigmoid", K = 3L, gate = "separate", n = 90, seed = 95)
  cs2 <- lik_case("laplace", "sigmoid", K = 2L, gate = "separate", n = 90, seed = 95)
  theta2 <- random_theta(cs2$prob, seed = 96)
  off <- c(0, 0, -1e4, 0.3, -0.2, 0.1, log(0.5))
  theta3 <- c(theta2[1:7], off, theta2[8:14])
  got3 <- cm_loglik(cs3$prob, theta3, 2L)
  got2 <- cm_loglik(cs2$prob, theta2, 2L)
  expect_equal(got3$loglik, got2$loglik, tolerance = 1e-13)
  expect_equal(got3$resp[, -3], got2$resp, tolerance = 1e-13)
  expect_identical(got3$resp[, 3], rep(0, 90))
  expect_equal(got3$score[-(8:14)], got2$score, tolerance = 1e-12)
  expect_equal(got3$score[8:14], rep(0, 7))
  expect_equal(got3$hessian[-(8:14), -(8:14)], got2$hessian, tolerance = 1e-12)
  expect_equal(got3$hessian[8:14, ], matrix(0, 7, 21))
})

test_that("a Gaussian pre-trained expert equal to the prompt ignores the gate", {
  # the non-identifiable case: f0 = N(h0, nu0) and prompt = N(h0, nu0) give
  # sum(log f0) whatever the gate, and a flat score in the gate parameters
  cs <- lik_case("gaussian", "tanh", K = 1L, gate = "separate", n = 80, seed = 97)
  prob <- cs$prob
  eta0 <- c(0.2, 0.8, -0.5)
  for (gate in list(c(0, 0, 0), c(1.5, -2, 0.7), c(-3, 0.2, 4))) {
    params <- list(beta = gate[1:2], tau = gate[3], eta = eta0, nu = 0.25)
    got <- cm_loglik(prob, to_internal(prob, params), 1L)
    expect_equal(got$loglik, sum(cs$lf0_naive), tolerance = 1e-12)
    expect_equal(got$score[1:3], c(0, 0, 0), tolerance = 1e-10)
  }
})
