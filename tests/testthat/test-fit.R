# Fitting: EM monotone, EM and Newton agree, recovery, standard errors.

expect_monotone <- function(fit) {
  path <- fit$loglik_path
  expect_true(all(diff(path) >= -1e-10 * abs(path[-1L])))
}

fit_both <- function(formula, data, ...) {
  em <- cmoe(formula, data, method = "em", ...)
  direct <- cmoe(formula, data, method = "direct", ...)
  expect_true(em$converged)
  expect_true(direct$converged)
  expect_monotone(em)
  list(em = em, direct = direct)
}

expect_same_optimum <- function(fits) {
  expect_lt(max(abs(coef(fits$em) - coef(fits$direct))), 1e-4)
  expect_lt(abs(fits$em$loglik - fits$direct$loglik) / abs(fits$direct$loglik), 1e-6)
}

test_that("EM and direct reach the same optimum in the paper's distinguishable setting", {
  pd <- paper_data(1e4, seed = 11)
  fits <- fit_both(y ~ . - 1, pd$data, pretrained = pd$pretrained)
  expect_same_optimum(fits)
  # the score vanishes at the optimum (relative to the information's scale)
  expect_lt(max(abs(fits$direct$gradient * sqrt(diag(vcov(fits$direct))))), 1e-3)
})

test_that("EM and direct agree with a Student-t pre-trained expert, d = 3, sigmoid means", {
  pd <- paper_data(1e4, seed = 12, d = 3, family = "student", df = 5, mean = "sigmoid",
                   eta = c(-2, 1, 0), nu = 0.01)
  fits <- fit_both(y ~ . - 1, pd$data, pretrained = pd$pretrained, mean = "sigmoid")
  expect_same_optimum(fits)
})

test_that("EM and direct agree with linear means, an intercept and separate gate covariates", {
  set.seed(13)
  n <- 1e4
  x <- matrix(rnorm(2 * n), n, 2, dimnames = list(NULL, c("x1", "x2")))
  z <- matrix(rnorm(n), n, 1, dimnames = list(NULL, "z"))
  pre <- expert_spec("gaussian", "linear", eta = c(0, 1, 1), nu = 0.25)
  d <- rcmoe(cbind(`(Intercept)` = 1, x), beta = 1.5, tau = -0.5, eta = c(1, -1, 0.5),
             nu = 0.5, pretrained = pre, mean = "linear", gate_x = z)
  fits <- fit_both(y ~ x1 + x2 | z, d, pretrained = pre, mean = "linear")
  expect_same_optimum(fits)
  expect_named(coef(fits$em), c("beta_z", "tau", "eta_(Intercept)", "eta_x1", "eta_x2", "nu"))
})

test_that("EM's log-likelihood never decreases, for every family and mean function", {
  for (family in c("gaussian", "laplace", "student")) {
    for (mean in c("linear", "tanh", "sigmoid", "gelu", "relu")) {
      pd <- paper_data(2000, seed = 14, d = 3, family = family, mean = mean,
                       df = if (family == "student") 4, eta = c(-1, 0.5, 0), nu = 0.05)
      fit <- suppressWarnings(cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained,
                                   mean = mean, control = list(maxit = 300)))
      expect_monotone(fit)
      expect_gt(length(fit$loglik_path), 1L)
    }
  }
})

test_that("the paper's distinguishable setting is recovered at n = 1e5", {
  pd <- paper_data(1e5, seed = 15)
  fit <- cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained)
  p <- fit$params
  tr <- pd$truth
  expect_lt(abs(exp(p$tau) - exp(tr$tau)), 0.05)
  expect_lt(sqrt(sum((p$beta - tr$beta)^2)), 0.05)
  expect_lt(sqrt(sum((p$eta - tr$eta)^2)), 0.05)
  expect_lt(abs(p$nu - tr$nu), 1e-4)
})

test_that("standard errors match the spread of estimates over replications", {
  reps <- 200
  est <- se <- matrix(NA_real_, reps, 6)
  for (r in seq_len(reps)) {
    pd <- paper_data(1000, seed = 1000 + r, d = 2, eta = c(-1, 0.5), nu = 0.01)
    fit <- cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained)
    est[r, ] <- coef(fit)
    se[r, ] <- sqrt(diag(vcov(fit)))
  }
  ratio <- apply(se, 2, mean) / apply(est, 2, stats::sd)
  expect_true(all(ratio > 0.8 & ratio < 1.25), info = paste(round(ratio, 3), collapse = " "))
})

test_that("user starts, the automatic start and several random starts", {
  pd <- paper_data(3000, seed = 16, d = 2, eta = c(-1, 0), nu = 0.01)
  auto <- cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained)
  from_truth <- cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained, start = pd$truth)
  expect_equal(auto$loglik, from_truth$loglik, tolerance = 1e-8)
  from_fit <- cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained, start = auto)
  expect_lte(from_fit$iterations, 2L)
  set.seed(3)
  multi <- cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained, nstart = 4)
  expect_length(multi$starts, 4L)
  expect_equal(multi$loglik, max(multi$starts, na.rm = TRUE))
  expect_gte(multi$loglik, auto$loglik - 1e-6)
  set.seed(3)
  again <- cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained, nstart = 4)
  expect_identical(coef(again), coef(multi))
})

test_that("the formula interface accepts `.`, two parts, subset and na.action", {
  pd <- paper_data(500, seed = 17, d = 2, eta = c(-1, 0), nu = 0.01)
  d <- pd$data
  d$x1[3] <- NA
  fit <- cmoe(y ~ . - 1, d, pretrained = pd$pretrained)
  expect_equal(nobs(fit), 499L)
  expect_s3_class(fit$na.action, "omit")
  sub <- cmoe(y ~ x1 + x2 - 1, d, pretrained = pd$pretrained, subset = seq_len(400))
  expect_equal(nobs(sub), 399L)
  two <- cmoe(y ~ x1 + x2 - 1 | x2, d, pretrained = pd$pretrained)
  expect_named(coef(two), c("beta_x2", "tau", "eta_x1", "eta_x2", "nu"))
})

test_that("a fitted lm is accepted as the pre-trained expert", {
  set.seed(18)
  src <- data.frame(x = rnorm(300))
  src$y <- 1 + 2 * src$x + rnorm(300, sd = 0.3)
  old <- lm(y ~ x, data = src)
  x <- matrix(rnorm(3000), ncol = 1, dimnames = list(NULL, "x"))
  d <- rcmoe(cbind(`(Intercept)` = 1, x), beta = 1, tau = 0, eta = c(-1, 0.5), nu = 0.2,
             pretrained = old, mean = "linear", gate_x = x)
  fit <- cmoe(y ~ x, d, pretrained = old, mean = "linear")
  expect_true(fit$converged)
  expect_equal(fit$pretrained_mean, unname(predict(old, newdata = d)))
  expect_equal(fit$pretrained$nu, sigma(old)^2)
  expect_lt(abs(coef(fit)[["eta_x"]] - 0.5), 0.1)
})

test_that("a prompt variance on its floor and non-convergence give classed warnings", {
  pd <- paper_data(400, seed = 19, d = 2, eta = c(-1, 0), nu = 0.01)
  expect_warning(cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained,
                      control = list(maxit = 1)),
                 class = "contamoe_warning_convergence")
  # 50 identical responses: a linear prompt can sit on them exactly, and the
  # likelihood grows without bound as its variance shrinks
  set.seed(19)
  d <- data.frame(x1 = rnorm(400))
  d$y <- d$x1 + rnorm(400, sd = 0.1)
  d$y[1:50] <- 2
  pre <- expert_spec("gaussian", "linear", eta = c(0, 1), nu = 0.01)
  for (method in c("em", "direct")) {
    seen <- character()
    fit <- withCallingHandlers(
      cmoe(y ~ x1, d, pretrained = pre, mean = "linear", method = method),
      warning = function(w) {
        seen <<- c(seen, class(w))
        invokeRestart("muffleWarning")
      }
    )
    expect_true("contamoe_warning_floor" %in% seen)
    expect_true(fit$at_floor)
    expect_equal(fit$params$nu, 1e-8 * var(d$y))
    expect_equal(fit$params$eta[1], 2, tolerance = 1e-6)
  }
})

# ---- degenerate data: each ends in a documented result or a clear error ----

fit_quietly <- function(...) {
  seen <- character()
  fit <- withCallingHandlers(cmoe(...), warning = function(w) {
    seen <<- c(seen, class(w)[1L])
    invokeRestart("muffleWarning")
  })
  list(fit = fit, warnings = seen)
}

pre_linear <- function() expert_spec("gaussian", "linear", eta = c(0, 1), nu = 0.1)

test_that("the design cross products for the rank checks are those of cbind(1, x)", {
  set.seed(31)
  x <- matrix(rnorm(700 * 3), 700, 3) # two chunks of 256 rows and a remainder
  expect_equal(.Call(contamoe:::C_crossprod1, x), crossprod(cbind(1, x)), tolerance = 1e-13)
  expect_equal(.Call(contamoe:::C_crossprod1, x[0, , drop = FALSE]), matrix(0, 4, 4))
})

test_that("all responses equal: the prompt collapses onto them, flagged", {
  set.seed(51)
  d <- data.frame(x = rnorm(200), y = 3)
  for (method in c("em", "direct")) {
    res <- fit_quietly(y ~ x, d, pre_linear(), mean = "linear", method = method)
    expect_true("contamoe_warning_floor" %in% res$warnings)
    expect_true(res$fit$at_floor)
    expect_equal(res$fit$params$eta[1], 3, tolerance = 1e-8)
  }
})

test_that("a constant or collinear covariate is a clear error", {
  set.seed(52)
  d <- data.frame(x = rep(1, 100), z = rnorm(100), y = rnorm(100))
  expect_error(cmoe(y ~ x, d, pre_linear(), mean = "linear"), "rank-deficient expert design",
               class = "contamoe_error_input")
  d$w <- 2 * d$z
  expect_error(cmoe(y ~ z - 1 | z + w, d, expert_spec("gaussian", "linear", 1, 0.1),
                    mean = "linear"), "rank-deficient gate design.*`w`",
               class = "contamoe_error_input")
})

test_that("a perfectly separable gate runs off and is flagged", {
  set.seed(53)
  d <- data.frame(x = rnorm(400))
  d$y <- ifelse(d$x > 0, -2 + rnorm(400, sd = 0.3), d$x + rnorm(400, sd = 0.3))
  for (method in c("em", "direct")) {
    res <- fit_quietly(y ~ x, d, pre_linear(), mean = "linear", method = method)
    expect_true("contamoe_warning_gate" %in% res$warnings)
    expect_true(res$fit$gate_runaway)
    expect_false(res$fit$converged)
    expect_equal(res$fit$status, "gate ran off")
    expect_equal(res$fit$params$eta[1], -2, tolerance = 0.1)
  }
})

test_that("a prompt identical to the pre-trained expert returns with a diagnostic", {
  set.seed(54)
  d <- data.frame(x = rnorm(400))
  d$y <- d$x + rnorm(400, sd = sqrt(0.1))
  for (method in c("em", "direct")) {
    res <- fit_quietly(y ~ x, d, pre_linear(), mean = "linear", method = method)
    expect_true("contamoe_warning_identifiability" %in% res$warnings)
    expect_lt(res$fit$lr_pretrained, qchisq(0.95, 5))
    expect_true(is.finite(res$fit$loglik))
  }
  # the distinguishable paper setting is far from that
  pd <- paper_data(2000, seed = 55, d = 2, eta = c(-1, 0), nu = 0.01)
  expect_gt(cmoe(y ~ . - 1, pd$data, pd$pretrained)$lr_pretrained, 1000)
})

test_that("n barely above the number of parameters still returns", {
  set.seed(56)
  d <- data.frame(x = rnorm(6))
  d$y <- d$x + rnorm(6)
  res <- fit_quietly(y ~ x, d, pre_linear(), mean = "linear")
  expect_s3_class(res$fit, "cmoe")
  expect_true(is.finite(res$fit$loglik))
})

test_that("covariates and responses on scales from 1e-8 to 1e8 are fitted alike", {
  set.seed(57)
  base <- data.frame(x = rnorm(500))
  comp <- runif(500) < plogis(base$x)
  base$y <- ifelse(comp, -base$x, base$x) + rnorm(500, sd = 0.1)
  ref <- cmoe(y ~ x, base, expert_spec("gaussian", "linear", c(0, 1), 0.01), mean = "linear")
  for (sc in c(1e-8, 1e8)) {
    dx <- transform(base, x = x * sc)
    fx <- cmoe(y ~ x, dx, expert_spec("gaussian", "linear", c(0, 1 / sc), 0.01),
               mean = "linear", method = "direct")
    expect_equal(unname(coef(fx)[c("beta_x", "eta_x")] * sc),
                 unname(coef(ref)[c("beta_x", "eta_x")]), tolerance = 1e-5)
    expect_equal(fx$loglik, ref$loglik, tolerance = 1e-8)
    dy <- transform(base, y = y * sc)
    for (method in c("em", "direct")) {
      fy <- cmoe(y ~ x, dy, expert_spec("gaussian", "linear", c(0, sc), 0.01 * sc^2),
                 mean = "linear", method = method)
      expect_true(fy$converged)
      expect_equal(unname(coef(fy)[c("eta_(Intercept)", "eta_x")] / sc),
                   unname(coef(ref)[c("eta_(Intercept)", "eta_x")]), tolerance = 1e-4)
      expect_equal(fy$loglik, ref$loglik - 500 * log(sc), tolerance = 1e-8)
    }
  }
})

test_that("NaN during the iterations ends in a status, not a crash", {
  set.seed(58)
  n <- 50L
  x <- matrix(rnorm(n), n, 1)
  y <- rnorm(n)
  lf0 <- replace(dnorm(y, log = TRUE), 7, NaN)
  for (entry in list(C_em, C_direct)) {
    res <- .Call(entry, y, x, x, lf0, 1L, 2L, c(0, 0, 0.5, 0), c(50, 10, 1e-8, -20, 20))
    expect_identical(res$status, 2L)
  }
})

test_that("the same seed gives bit-identical fits", {
  pd <- paper_data(1500, seed = 59, d = 2, eta = c(-1, 0), nu = 0.01)
  a <- { set.seed(9); cmoe(y ~ . - 1, pd$data, pd$pretrained, nstart = 3) }
  b <- { set.seed(9); cmoe(y ~ . - 1, pd$data, pd$pretrained, nstart = 3) }
  expect_identical(a[setdiff(names(a), "call")], b[setdiff(names(b), "call")])
})

# ---- several prompts ----

two_prompts <- function(n, seed) {
  set.seed(seed)
  x <- matrix(rnorm(2 * n), n, 2, dimnames = list(NULL, c("x1", "x2")))
  pre <- expert_spec("laplace", "linear", eta = c(1, 0), nu = 0.05)
  truth <- list(beta = cbind(c(1, 0), c(0, 1)), tau = c(0.3, -0.3),
                eta = cbind(c(-1, 0), c(0, 2)), nu = c(0.05, 0.1))
  list(data = rcmoe(x, truth$beta, truth$tau, truth$eta, truth$nu, pretrained = pre,
                    mean = "linear"), pretrained = pre, truth = truth)
}

test_that("two well separated prompts are recovered at n = 1e5, by EM and Newton alike", {
  tp <- two_prompts(1e5, 61)
  em <- cmoe(y ~ . - 1, tp$data, tp$pretrained, mean = "linear", K = 2)
  direct <- cmoe(y ~ . - 1, tp$data, tp$pretrained, mean = "linear", K = 2, method = "direct")
  expect_monotone(em)
  expect_lt(max(abs(coef(em) - coef(direct))), 1e-4)
  # the canonical order puts the larger prompt (tau = 0.3) first, as in the truth
  expect_lt(as.numeric(cmoe_loss(em, tp$truth, type = "voronoi")), 0.05)
  expect_equal(attr(cmoe_loss(em, tp$truth, type = "voronoi"), "cell"), 1:2)
  expect_equal(em$params$tau, tp$truth$tau, tolerance = 0.05)
  expect_equal(dim(predict(em, type = "gate")), c(1e5L, 3L))
  expect_equal(colnames(predict(em, type = "posterior")), c("pretrained", "prompt1", "prompt2"))
  expect_output(print(summary(em)), "eta2_x2")
})

test_that("the canonical order does not depend on the order of the start", {
  tp <- two_prompts(4000, 62)
  t <- tp$truth
  swapped <- list(beta = t$beta[, 2:1], tau = t$tau[2:1], eta = t$eta[, 2:1], nu = t$nu[2:1])
  a <- cmoe(y ~ . - 1, tp$data, tp$pretrained, mean = "linear", K = 2, start = t)
  b <- cmoe(y ~ . - 1, tp$data, tp$pretrained, mean = "linear", K = 2, start = swapped)
  expect_equal(coef(a), coef(b), tolerance = 1e-6)
  share <- colSums(a$responsibilities[, -1])
  expect_true(share[1] >= share[2])
})

test_that("BIC chooses the true number of prompts", {
  tp <- two_prompts(4000, 63)
  bic <- sapply(1:3, function(k) {
    BIC(suppressWarnings(cmoe(y ~ . - 1, tp$data, tp$pretrained, mean = "linear", K = k,
                              method = "direct")))
  })
  expect_equal(which.min(bic), 2L)
})

test_that("Newton converges in few iterations where EM crawls (eta* = eta0)", {
  # case (ii) with the prompt's mean equal to the pre-trained expert's: only
  # the variances tell them apart, and EM needs thousands of iterations here
  set.seed(4)
  s <- paper_setting("nondist_ii", n = 1e4)
  d <- rcmoe(s$draw_x(1e4), s$truth$beta, s$truth$tau, s$truth$eta, s$truth$nu,
             pretrained = s$pretrained)
  fit <- suppressWarnings(cmoe(y ~ . - 1, data = d, pretrained = s$pretrained, start = s$truth))
  expect_true(fit$converged)
  expect_lte(fit$iterations, 20L)
  # a stationary point: the Newton decrement score' I^-1 score is negligible
  # (gradient and vcov are on the user's scale, where it is the same number)
  expect_lt(drop(fit$gradient %*% fit$vcov %*% fit$gradient), 1e-6)
  # EM from the same start climbs towards, never past, Newton's optimum
  em <- suppressWarnings(cmoe(y ~ . - 1, data = d, pretrained = s$pretrained, start = s$truth,
                              method = "em", control = cmoe_control(maxit = 200)))
  expect_false(em$converged)
  expect_equal(em$iterations, 200L)
  expect_lte(em$loglik, fit$loglik + 1e-8 * abs(fit$loglik))
  expect_true(all(diff(em$loglik_path) >= -1e-9 * abs(fit$loglik)))
})

test_that("Newton returns responsibilities, score and Hessian at its result; EM the first", {
  pd <- paper_data(1000, seed = 5, d = 2, eta = c(-1, 0.5), nu = 0.01)
  prob <- paper_problem(pd)
  res <- contamoe:::cmoe_fit(prob, "direct", NULL, 1L, cmoe_control())
  ev <- contamoe:::cm_loglik(prob, res$theta, 2L)
  expect_equal(res$resp, ev$resp, tolerance = 1e-12)
  expect_equal(res$score, ev$score, tolerance = 1e-12)
  expect_equal(res$hessian, ev$hessian, tolerance = 1e-12)
  em <- contamoe:::cmoe_fit(prob, "em", NULL, 1L, cmoe_control())
  expect_equal(em$resp, contamoe:::cm_loglik(prob, em$theta, 0L)$resp, tolerance = 1e-12)
  expect_null(em$hessian)
  expect_null(em$score)
  # a tolerance no step can meet: Newton ends on a rejected trial, whose
  # responsibilities it must not return
  tight <- contamoe:::cmoe_fit(prob, "direct", NULL, 1L, cmoe_control(tol = 1e-300))
  expect_equal(tight$resp, contamoe:::cm_loglik(prob, tight$theta, 0L)$resp, tolerance = 1e-12)
  # several starts: the best run is kept, with its own responsibilities
  set.seed(2)
  multi <- contamoe:::cmoe_fit(prob, "direct", NULL, 3L, cmoe_control())
  expect_equal(multi$loglik, max(multi$starts))
  expect_equal(multi$resp, contamoe:::cm_loglik(prob, multi$theta, 0L)$resp, tolerance = 1e-12)
})
