# S3 methods on cmoe fits.

small_fit <- function(seed = 21, n = 2000) {
  pd <- paper_data(n, seed = seed, d = 2, eta = c(-1, 0.5), nu = 0.01)
  list(fit = cmoe(y ~ . - 1, pd$data, pretrained = pd$pretrained), pd = pd)
}

test_that("coef, vcov, confint, logLik, nobs, AIC and BIC fit together", {
  fit <- small_fit()$fit
  cf <- coef(fit)
  expect_named(cf, c("beta_x1", "beta_x2", "tau", "eta_x1", "eta_x2", "nu"))
  v <- vcov(fit)
  expect_equal(dim(v), c(6L, 6L))
  expect_equal(v, t(v))
  expect_true(all(eigen(v, only.values = TRUE)$values > 0))
  ci <- confint(fit, level = 0.9)
  expect_equal(ci[, 1], cf - qnorm(0.95) * sqrt(diag(v)), ignore_attr = TRUE)
  ll <- logLik(fit)
  expect_equal(attr(ll, "df"), 6L)
  expect_equal(nobs(fit), 2000L)
  expect_equal(AIC(fit), -2 * fit$loglik + 12)
  expect_equal(BIC(fit), -2 * fit$loglik + 6 * log(2000))
})

test_that("summary prints estimates, standard errors, z values and convergence", {
  fit <- small_fit()$fit
  s <- summary(fit)
  expect_s3_class(s, "summary.cmoe")
  expect_equal(s$coefficients[, "Std. Error"], sqrt(diag(vcov(fit))))
  expect_true(is.na(s$coefficients["nu", "z value"]))
  out <- capture.output(print(s))
  expect_true(any(grepl("Std. Error", out)))
  expect_true(any(grepl("AIC", out)))
  expect_true(any(grepl("converged after", out)))
  expect_output(print(fit), "log-likelihood")
})

test_that("fitted values and residuals are the mixture mean and its residual", {
  res <- small_fit()
  fit <- res$fit
  p <- fit$params
  x <- res$pd$x
  s <- plogis(drop(x %*% p$beta) + p$tau)
  mu <- (1 - s) * tanh(x[, 1]) + s * tanh(drop(x %*% p$eta))
  expect_equal(fitted(fit), mu, ignore_attr = TRUE)
  expect_named(fitted(fit), rownames(res$pd$data))
  expect_equal(residuals(fit), res$pd$data$y - mu, ignore_attr = TRUE)
  expect_equal(predict(fit), fitted(fit))
})

test_that("fitted values are named by the rows they came from", {
  res <- small_fit(n = 300)
  d <- res$pd$data
  rownames(d) <- paste0("obs", seq_len(nrow(d)))
  d$y[c(2, 5)] <- NA
  fit <- cmoe(y ~ . - 1, d, pretrained = res$pd$pretrained)
  expect_named(fitted(fit), rownames(d)[-c(2, 5)])
  expect_named(predict(fit, type = "gate"), rownames(d)[-c(2, 5)])
  expect_null(rownames(fit$xe)) # one string per row would outweigh the design
  expect_null(res$fit$row_names) # rows 1..n need no names kept
  expect_named(fitted(res$fit), as.character(seq_len(300)))
  fit_ex <- cmoe(y ~ . - 1, d, pretrained = res$pd$pretrained, na.action = na.exclude)
  expect_named(fitted(fit_ex), rownames(d))
  expect_true(all(is.na(fitted(fit_ex)[c(2, 5)])))
})

test_that("predict gives the gate, posterior and density, also on new data", {
  res <- small_fit()
  fit <- res$fit
  p <- fit$params
  new <- res$pd$data[1:5, ]
  x <- as.matrix(new[, c("x1", "x2")])
  s <- plogis(drop(x %*% p$beta) + p$tau)
  expect_equal(predict(fit, new, type = "gate"), s, ignore_attr = TRUE)
  f0 <- exp(-abs(new$y - tanh(x[, 1])) / sqrt(0.001 / 2)) / (2 * sqrt(0.001 / 2))
  f1 <- dnorm(new$y, tanh(drop(x %*% p$eta)), sqrt(p$nu))
  dens <- (1 - s) * f0 + s * f1
  expect_equal(predict(fit, new, type = "density"), dens, ignore_attr = TRUE)
  expect_equal(predict(fit, new, type = "posterior"), s * f1 / dens, ignore_attr = TRUE)
  expect_equal(predict(fit, type = "posterior"), fit$responsibilities[, 2], ignore_attr = TRUE)
  # y given separately, and newdata without the response
  expect_equal(predict(fit, new[, -1], type = "density", y = new$y), dens, ignore_attr = TRUE)
  expect_error(predict(fit, new[, -1], type = "density"), class = "contamoe_error_input")
  expect_equal(predict(fit, new[, -1], type = "mean"),
               (1 - s) * tanh(x[, 1]) + s * tanh(drop(x %*% p$eta)), ignore_attr = TRUE)
})

test_that("simulate draws reproducibly from the fitted model", {
  fit <- small_fit()$fit
  a <- simulate(fit, nsim = 3, seed = 42)
  b <- simulate(fit, nsim = 3, seed = 42)
  expect_identical(a, b)
  expect_equal(dim(a), c(2000L, 3L))
  expect_named(a, c("sim_1", "sim_2", "sim_3"))
  # refitting a simulated response recovers the fitted parameters roughly
  d <- data.frame(y = a$sim_1, fit$xe)
  refit <- cmoe(y ~ . - 1, d, pretrained = fit$pretrained)
  expect_lt(max(abs(coef(refit) - coef(fit)) / sqrt(diag(vcov(fit)))), 5)
})

test_that("plot draws its three panels", {
  fit <- small_fit(n = 500)$fit
  path <- tempfile(fileext = ".png")
  grDevices::png(path)
  on.exit(unlink(path))
  expect_invisible(plot(fit))
  grDevices::dev.off()
  expect_gt(file.size(path), 1000)
  expect_error(plot(fit, which = 4), class = "contamoe_error_input")
})

test_that("every method works with two prompts", {
  set.seed(22)
  x <- matrix(rnorm(1200), ncol = 2, dimnames = list(NULL, c("x1", "x2")))
  pre <- expert_spec("laplace", "linear", eta = c(1, 0), nu = 0.05)
  d <- rcmoe(x, beta = cbind(c(1, 0), c(0, 1)), tau = c(0, 0), eta = cbind(c(-1, 0), c(0, 2)),
             nu = c(0.05, 0.1), pretrained = pre, mean = "linear")
  fit <- cmoe(y ~ . - 1, d, pre, mean = "linear", K = 2)
  expect_length(coef(fit), 12L)
  expect_equal(dim(vcov(fit)), c(12L, 12L))
  expect_equal(dim(confint(fit)), c(12L, 2L))
  g <- predict(fit, d[1:4, ], type = "gate")
  expect_equal(dim(g), c(4L, 3L))
  expect_equal(rowSums(g), rep(1, 4), ignore_attr = TRUE)
  expect_equal(rowSums(predict(fit, d[1:4, ], type = "posterior")), rep(1, 4), ignore_attr = TRUE)
  expect_equal(predict(fit, d[1:4, ]), fitted(fit)[1:4], ignore_attr = TRUE)
  expect_equal(dim(simulate(fit, nsim = 2, seed = 1)), c(600L, 2L))
  expect_output(print(fit), "2 prompts")
  path <- tempfile(fileext = ".png")
  grDevices::png(path)
  plot(fit)
  grDevices::dev.off()
  expect_gt(file.size(path), 1000)
  unlink(path)
})
