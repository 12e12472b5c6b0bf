# Parameter errors and the losses D1, D2.

truth <- function() list(beta = c(1, 2), tau = 0.5, eta = c(-1, 0, 1), nu = 0.01)

test_that("param_errors equals a hand computation", {
  est <- list(beta = c(1.3, 1.6), tau = 0.4, eta = c(-1, 0.3, 1.4), nu = 0.02)
  e <- param_errors(est, truth())
  expect_equal(e[["exp_tau"]], abs(exp(0.4) - exp(0.5)))
  expect_equal(e[["tau"]], 0.1)
  expect_equal(e[["beta"]], 0.5)
  expect_equal(e[["eta"]], 0.5)
  expect_equal(e[["nu"]], 0.01)
})

test_that("D1 and D2 follow their formulas", {
  est <- list(beta = c(1.3, 1.6), tau = 0.4, eta = c(-1, 0.3, 1.4), nu = 0.02)
  pre <- expert_spec("gaussian", "tanh", eta = c(-1, 0, 0), nu = 0.01)
  rest <- 0.5 + 0.5 + 0.01
  dtau <- abs(exp(0.4) - exp(0.5))
  expect_equal(cmoe_loss(est, truth(), type = "D1"), dtau + exp(0.5) * rest)
  rstar <- 1  # ||(eta* - eta0, nu* - nu0)|| = ||(0, 0, 1, 0)||
  expect_equal(cmoe_loss(est, truth(), pre, type = "D2"), dtau * rstar^2 + exp(0.5) * rstar * rest)
  pre2 <- expert_spec("gaussian", "tanh", eta = c(-1, 0, 0.7), nu = 0.05)
  r2 <- sqrt(0.3^2 + 0.04^2)
  expect_equal(cmoe_loss(est, truth(), pre2, type = "D2"), dtau * r2^2 + exp(0.5) * r2 * rest)
})

test_that("D1 is zero exactly when the parameters match", {
  expect_identical(cmoe_loss(truth(), truth()), 0)
  for (nm in c("beta", "tau", "eta", "nu")) {
    est <- truth()
    est[[nm]][1] <- est[[nm]][1] * 1.001
    expect_gt(cmoe_loss(est, truth()), 0)
  }
})

test_that("losses accept fits and settings", {
  s <- paper_setting("nondist_i", n = 2000)
  pd <- paper_data(2000, seed = 41, family = "gaussian", eta = s$truth$eta)
  fit <- cmoe(y ~ . - 1, pd$data, pretrained = s$pretrained, start = s$truth)
  expect_equal(param_errors(fit, s), param_errors(fit$params, s$truth))
  expect_equal(cmoe_loss(fit, s, type = "D2"), cmoe_loss(fit$params, s$truth, s$pretrained, "D2"))
  expect_error(cmoe_loss(fit, s$truth, type = "D2"), class = "contamoe_error_input")
  expect_error(param_errors(fit, list(beta = 1, tau = 1, eta = 1, nu = 1)),
               class = "contamoe_error_input")
})

test_that("the Voronoi loss equals hand computations", {
  truth <- list(beta = c(1, 1), tau = 1, eta = c(1.2, 0), nu = 0.001)
  expect_equal(as.numeric(cmoe_loss(truth, truth, type = "voronoi")), 0)
  # two fitted prompts in the one true cell
  over <- list(beta = cbind(c(1, 1), c(0.9, 1.1)), tau = c(0.3, 0.3),
               eta = cbind(c(1.2, 0), c(1.25, 0)), nu = c(0.001, 0.001))
  v <- cmoe_loss(over, truth, type = "voronoi")
  expect_equal(attr(v, "cell"), c(1L, 1L))
  hand <- abs(2 * exp(0.3) - exp(1)) + exp(0.3) * (sqrt(0.02) + 0.05)
  expect_equal(as.numeric(v), hand)
  # two true prompts, the second one left with an empty cell
  truth2 <- list(beta = cbind(c(1, 1), c(-1, 0)), tau = c(1, 0),
                 eta = cbind(c(1.2, 0), c(-3, 3)), nu = c(0.001, 0.01))
  v2 <- cmoe_loss(over, truth2, type = "voronoi")
  expect_equal(attr(v2, "cell"), c(1L, 1L))
  expect_equal(as.numeric(v2), hand + exp(0))
  # one prompt on each side: D1 with the fitted weight
  est <- list(beta = c(1.3, 1.6), tau = 0.4, eta = c(1.0, 0.3), nu = 0.002)
  one <- cmoe_loss(est, truth, type = "voronoi")
  expect_equal(as.numeric(one), abs(exp(0.4) - exp(1)) +
                 exp(0.4) * (sqrt(0.09 + 0.36) + sqrt(0.04 + 0.09) + 0.001))
  expect_error(cmoe_loss(over, list(beta = 1, tau = 1, eta = 1, nu = 1), type = "voronoi"),
               class = "contamoe_error_input")
})
