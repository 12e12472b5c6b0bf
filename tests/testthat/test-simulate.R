# rcmoe(): drawing from the model.

test_that("rcmoe draws components with the gate's probabilities", {
  set.seed(31)
  n <- 20000
  x <- matrix(rnorm(2 * n), n, 2)
  pre <- expert_spec("gaussian", "linear", eta = c(1, 0), nu = 0.1)
  d <- rcmoe(x, beta = c(1, -1), tau = 0.5, eta = c(-1, 0), nu = 0.2, pretrained = pre,
             mean = "linear")
  expect_named(d, c("y", "x1", "x2"))
  s <- plogis(x %*% c(1, -1) + 0.5)
  comp <- attr(d, "component")
  expect_equal(mean(comp), mean(s), tolerance = 0.02)
  # residual variances of each component are the experts' variances
  r0 <- d$y[comp == 0] - x[comp == 0, 1]
  r1 <- d$y[comp == 1] + x[comp == 1, 1]
  expect_equal(var(r0), 0.1, tolerance = 0.05)
  expect_equal(var(r1), 0.2, tolerance = 0.05)
})

test_that("every pre-trained family draws with the stated variance", {
  set.seed(32)
  x <- matrix(0, 50000, 1)
  for (fam in c("gaussian", "laplace", "student")) {
    pre <- expert_spec(fam, "linear", eta = 0, nu = 0.5, df = if (fam == "student") 6)
    d <- rcmoe(x, beta = 0, tau = -50, eta = 0, nu = 1, pretrained = pre, mean = "linear")
    expect_true(all(attr(d, "component") == 0))
    expect_equal(var(d$y), 0.5, tolerance = 0.05)
  }
})

test_that("rcmoe handles several prompts, a separate gate design and a fitted lm", {
  set.seed(33)
  x <- matrix(rnorm(3000), ncol = 1, dimnames = list(NULL, "x"))
  z <- matrix(rnorm(3000), ncol = 1, dimnames = list(NULL, "z"))
  src <- data.frame(x = rnorm(100))
  src$y <- 2 * src$x + rnorm(100)
  d <- rcmoe(x, beta = cbind(1, -1), tau = c(0, 0), eta = cbind(1, -1), nu = c(1, 1),
             pretrained = lm(y ~ x, src), gate_x = z)
  expect_named(d, c("y", "x", "z"))
  expect_setequal(unique(attr(d, "component")), 0:2)
  set.seed(1)
  a <- rcmoe(x, 1, 0, 1, 1, pretrained = expert_spec("gaussian", "tanh", 1, 1))
  set.seed(1)
  b <- rcmoe(x, 1, 0, 1, 1, pretrained = expert_spec("gaussian", "tanh", 1, 1))
  expect_identical(a, b)
})
