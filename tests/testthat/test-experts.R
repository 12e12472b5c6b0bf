# Experts: the C mean functions and pre-trained log-densities against naive R
# formulas (helper-likelihood.R), finite differences and numerical integrals;
# expert_spec() and as_expert_spec().

test_that("mean functions agree with naive R formulas", {
  set.seed(11)
  u <- c(seq(-6, 6, by = 0.37), rnorm(50, sd = 2), -25, -3e-4, 2e-3, 25)
  for (mean in all_means) {
    got <- mean_eval(mean, u)
    ref <- naive_mean(mean, u)
    expect_named(got, c("h", "dh", "d2h"))
    expect_length(got$h, length(u))
    expect_equal(got$h, ref$h, tolerance = 1e-13, label = paste(mean, "h"))
    expect_equal(got$dh, ref$dh, tolerance = 1e-12, label = paste(mean, "dh"))
    expect_equal(got$d2h, ref$d2h, tolerance = 1e-12, label = paste(mean, "d2h"))
  }
  # textbook values
  expect_equal(mean_eval("tanh", u)$h, tanh(u), tolerance = 1e-15)
  expect_equal(mean_eval("sigmoid", u)$h, plogis(u), tolerance = 1e-15)
  expect_equal(mean_eval("sigmoid", u)$dh, dlogis(u), tolerance = 1e-14)
  expect_equal(mean_eval("gelu", c(-1, 0, 1))$h, c(-pnorm(-1), 0, pnorm(1)))
  expect_identical(mean_eval("relu", c(-2, 0.5))$h, c(0, 0.5))
  expect_identical(mean_eval("linear", c(-2, 0.5))$h, c(-2, 0.5))
})

test_that("mean function derivatives agree with central finite differences", {
  set.seed(12)
  u <- c(seq(-4, 4, by = 0.37), rnorm(40, sd = 1.5))
  eps <- 1e-6
  for (mean in all_means) {
    v <- if (mean == "relu") u[abs(u) > 1e-3] else u
    up <- mean_eval(mean, v + eps)
    lo <- mean_eval(mean, v - eps)
    got <- mean_eval(mean, v)
    expect_lt(rel_err(got$dh, (up$h - lo$h) / (2 * eps)), 1e-8,
              label = paste(mean, "dh vs finite difference"))
    expect_lt(rel_err(got$d2h, (up$dh - lo$dh) / (2 * eps)), 1e-8,
              label = paste(mean, "d2h vs finite difference"))
  }
})

test_that("mean functions are finite and stable for large |u|", {
  u <- c(-800, -745, -50, 50, 745, 800)
  s <- mean_eval("sigmoid", u)
  expect_true(all(is.finite(unlist(s))))
  expect_equal(s$h, plogis(u), tolerance = 1e-15)
  expect_identical(s$h[c(1, 6)], c(0, 1))
  expect_equal(s$dh, dlogis(u), tolerance = 1e-14)
  expect_identical(s$dh[c(1, 6)], c(0, 0))
  expect_identical(s$d2h[c(1, 6)], c(0, 0))
  for (mean in all_means) {
    expect_false(anyNA(unlist(mean_eval(mean, u))), label = paste(mean, "at large |u|"))
  }
  expect_identical(mean_eval("tanh", c(-800, 800))$h, c(-1, 1))
  expect_identical(mean_eval("gelu", c(-800, 800))$h, c(0, 800))
})

test_that("mean_eval() rejects an unknown mean function", {
  expect_error(mean_eval("softplus", 1))
})

test_that("pretrained_logdens() matches the naive log-densities of variance nu0", {
  set.seed(13)
  n <- 40
  m0 <- rnorm(n)
  for (nu0 in c(0.001, 1, 3.7)) {
    y <- m0 + rnorm(n, sd = 2 * sqrt(nu0))
    r <- y - m0
    g <- pretrained_logdens(expert_spec("gaussian", "linear", eta = 1, nu = nu0), y, m0)
    expect_equal(g, dnorm(y, m0, sqrt(nu0), log = TRUE), tolerance = 1e-13)
    b <- sqrt(nu0 / 2)
    l <- pretrained_logdens(expert_spec("laplace", "linear", eta = 1, nu = nu0), y, m0)
    expect_equal(l, log(exp(-abs(r) / b) / (2 * b)), tolerance = 1e-12)
    for (df in c(2.5, 5, 30)) {
      s <- sqrt(nu0 * (df - 2) / df)
      st <- pretrained_logdens(expert_spec("student", "tanh", eta = 1, nu = nu0, df = df),
                               y, m0)
      expect_equal(st, dt(r / s, df, log = TRUE) - log(s), tolerance = 1e-12,
                   label = sprintf("student df = %g, nu0 = %g", df, nu0))
    }
  }
})

test_that("the pre-trained densities integrate to one with mean m0 and variance nu0", {
  specs <- list(
    expert_spec("gaussian", "linear", eta = 1, nu = 0.001),
    expert_spec("laplace", "linear", eta = 1, nu = 0.001),
    expert_spec("laplace", "linear", eta = 1, nu = 2.5),
    expert_spec("student", "linear", eta = 1, nu = 0.001, df = 5),
    expert_spec("student", "linear", eta = 1, nu = 2.5, df = 12)
  )
  for (spec in specs) {
    m0 <- 0.3
    # substitute y = m0 + sqrt(nu0) z so the integrand has unit scale
    f <- function(z) {
      sqrt(spec$nu) * exp(pretrained_logdens(spec, m0 + sqrt(spec$nu) * z, rep(m0, length(z))))
    }
    what <- sprintf("%s, nu0 = %g", spec$family, spec$nu)
    mass <- integrate(f, -Inf, Inf, rel.tol = 1e-10)$value
    mean_z <- integrate(function(z) z * f(z), -Inf, Inf, rel.tol = 1e-10)$value
    var_z <- integrate(function(z) z^2 * f(z), -Inf, Inf, rel.tol = 1e-10)$value
    expect_equal(mass, 1, tolerance = 1e-7, label = paste("mass:", what))
    expect_equal(mean_z, 0, tolerance = 1e-7, label = paste("mean:", what))
    expect_equal(var_z * spec$nu, spec$nu, tolerance = 1e-6, label = paste("variance:", what))
  }
})

test_that("expert_spec() returns the documented fields", {
  s <- expert_spec("laplace", "tanh", eta = c(1, 0), nu = 0.001)
  expect_s3_class(s, "expert_spec")
  expect_named(s, c("family", "mean", "eta", "nu", "df"))
  expect_identical(s$family, "laplace")
  expect_identical(s$mean, "tanh")
  expect_identical(s$eta, c(1, 0))
  expect_identical(s$nu, 0.001)
  expect_identical(s$df, NA_real_)

  t5 <- expert_spec("student", "linear", eta = c(0.5, 2L), nu = 1L, df = 5L)
  expect_identical(t5$family, "student")
  expect_identical(t5$eta, c(0.5, 2))
  expect_identical(t5$nu, 1)
  expect_identical(t5$df, 5)
  expect_identical(as_expert_spec(t5), t5)
  expect_output(print(t5), "student")

  expect_identical(expert_spec(eta = 1, nu = 2)$family, "gaussian")
  expect_identical(expert_spec(eta = 1, nu = 2)$mean, "tanh")
})

test_that("expert_spec() rejects bad input with classed errors", {
  cls <- "contamoe_error_input"
  expect_error(expert_spec("cauchy", "tanh", eta = 1, nu = 1), class = cls)
  expect_error(expert_spec("gaussian", "swish", eta = 1, nu = 1), class = cls)
  expect_error(expert_spec("gaussian", "tanh", nu = 1), class = cls)
  expect_error(expert_spec("gaussian", "tanh", eta = 1), class = cls)
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = 0), class = cls)
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = -1), class = cls)
  expect_error(expert_spec("gaussian", "tanh", eta = c(1, NA), nu = 1), class = cls)
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1), class = cls)
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1, df = 2), class = cls)
  expect_error(expert_spec("laplace", "tanh", eta = 1, nu = 1, df = 5), class = cls)
})

test_that("pretrained_mean() of an expert_spec is h0(xe eta0)", {
  set.seed(14)
  xe <- cbind(1, matrix(rnorm(30), 15, 2))
  for (mean in all_means) {
    s <- expert_spec("gaussian", mean, eta = c(0.1, -0.7, 0.4), nu = 1)
    expect_equal(pretrained_mean(s, xe), naive_h(mean, drop(xe %*% s$eta)),
                 tolerance = 1e-13)
  }
  s <- expert_spec("gaussian", "tanh", eta = c(1, 2), nu = 1)
  expect_error(pretrained_mean(s, xe), class = "contamoe_error_input")
})

test_that("index_mean() is h(x eta) at any index, over chunks of rows and a remainder", {
  # 1001 rows: three chunks of 256 and a partial one; indices from -800 to
  # 800 reach the flush of exp() below exp(-300) and both tails of tanh
  x <- cbind(seq(-400, 400, length.out = 1001), 1)
  eta <- c(2, 0.25)
  u <- drop(x %*% eta)
  mid <- abs(u) < 300 # where the naive formulas do not overflow
  for (mean in all_means) {
    expect_equal(index_mean(x, eta, mean)[mid], naive_h(mean, u[mid]), tolerance = 1e-14,
                 label = mean)
  }
  expect_lt(max(abs(index_mean(x, eta, "tanh") - tanh(u))), 4 * .Machine$double.eps)
  expect_lt(max(abs(index_mean(x, eta, "sigmoid") - plogis(u))), 4 * .Machine$double.eps)
  expect_identical(index_mean(x, eta, "tanh")[c(1, 1001)], c(-1, 1))
  expect_equal(index_mean(matrix(1:6, 3), c(1, 1), "linear"), c(5, 7, 9))
})

test_that("as_expert_spec() of an lm uses its predictions and sigma^2", {
  set.seed(15)
  src <- data.frame(x = rnorm(60), z = runif(60))
  src$y <- 1 + 2 * src$x - src$z + rnorm(60, sd = 0.3)
  fit <- lm(y ~ x + z, data = src)
  s <- as_expert_spec(fit)
  expect_s3_class(s, "expert_model")
  expect_identical(s$family, "gaussian")
  expect_equal(s$nu, sigma(fit)^2)
  expect_equal(s$nu, sum(residuals(fit)^2) / (60 - 3))
  expect_identical(as_expert_spec(s), s)

  new <- data.frame(x = c(-1, 0, 2.5), z = c(0.2, 0.5, 0.9))
  xe <- cbind(1, as.matrix(new))
  expect_equal(pretrained_mean(s, xe, new), unname(predict(fit, newdata = new)))
  expect_equal(pretrained_mean(s, xe, new), drop(xe %*% coef(fit)))
  # so log f0 is the Gaussian density around the prediction with variance sigma^2
  yn <- c(0, 1, 4)
  expect_equal(pretrained_logdens(s, yn, pretrained_mean(s, xe, new)),
               dnorm(yn, predict(fit, newdata = new), sigma(fit), log = TRUE))

  gfit <- glm(y ~ x + z, data = src, family = gaussian())
  gs <- as_expert_spec(gfit)
  expect_equal(gs$nu, s$nu)
  expect_equal(pretrained_mean(gs, xe, new), pretrained_mean(s, xe, new))

  src$b <- rbinom(60, 1, 0.5)
  expect_error(as_expert_spec(glm(b ~ x, data = src, family = binomial())),
               class = "contamoe_error_input")
  expect_error(as_expert_spec(list(a = 1)), class = "contamoe_error_input")
  # no residual degrees of freedom: sigma(fit) is undefined
  expect_error(as_expert_spec(lm(y ~ x, data = src[1:2, ])), class = "contamoe_error_input")
})
