# Bad input: every exported function answers with a classed, informative
# error (class "contamoe_error_input", the offending argument named in
# backticks), and every .Call entry point answers a wrong type, length or code
# with a plain R error, never a crash. Messages of a representative subset are
# pinned by snapshots at the end.

# ---- expert_spec() and as_expert_spec() ------------------------------------

test_that("expert_spec() rejects unknown families and mean functions", {
  expect_error(expert_spec("cauchy", "tanh", eta = 1, nu = 1),
               "`family`.*\"cauchy\"", class = "contamoe_error_input")
  expect_error(expert_spec(NA, "tanh", eta = 1, nu = 1), "`family`",
               class = "contamoe_error_input")
  expect_error(expert_spec(c("gaussian", "laplace"), "tanh", eta = 1, nu = 1), "`family`",
               class = "contamoe_error_input")
  expect_error(expert_spec(1, "tanh", eta = 1, nu = 1), "`family`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "softplus", eta = 1, nu = 1),
               "`mean`.*\"softplus\"", class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", NULL, eta = 1, nu = 1), "`mean`.*NULL",
               class = "contamoe_error_input")
})

test_that("expert_spec() rejects missing, non-finite and non-positive parameters", {
  expect_error(expert_spec("gaussian", "tanh", nu = 1), "`eta`.*missing",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1), "`nu`.*missing",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = c(1, NA), nu = 1), "`eta`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = c(1, Inf), nu = 1), "`eta`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = numeric(0), nu = 1), "`eta`.*at least one",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = "1", nu = 1), "`eta`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = 0), "`nu`.*greater than 0",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = -1), "`nu`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = NA), "`nu`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = NA_real_), "`nu`.*NA",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = Inf), "`nu`.*Inf",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = "1"), "`nu`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = c(1, 2)), "`nu`",
               class = "contamoe_error_input")
})

test_that("expert_spec() needs df > 2 for the Student-t family and no df otherwise", {
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1), "`df`.*Student",
               class = "contamoe_error_input")
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1, df = 2), "`df`.*greater than 2",
               class = "contamoe_error_input")
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1, df = 1), "`df`",
               class = "contamoe_error_input")
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1, df = -3), "`df`",
               class = "contamoe_error_input")
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1, df = NA), "`df`",
               class = "contamoe_error_input")
  expect_error(expert_spec("student", "tanh", eta = 1, nu = 1, df = Inf), "`df`",
               class = "contamoe_error_input")
  expect_error(expert_spec("gaussian", "tanh", eta = 1, nu = 1, df = 5),
               "`df`.*Student.*\"gaussian\"", class = "contamoe_error_input")
  expect_error(expert_spec("laplace", "tanh", eta = 1, nu = 1, df = 5),
               "`df`.*\"laplace\"", class = "contamoe_error_input")
})

test_that("as_expert_spec() takes only expert specs, lm and Gaussian glm fits", {
  set.seed(21)
  src <- data.frame(x1 = rnorm(50))
  src$y <- rnorm(50)
  src$b <- rbinom(50, 1, 0.5)
  expect_error(as_expert_spec(glm(b ~ x1, family = binomial, data = src)),
               "`pretrained`.*Gaussian glm", class = "contamoe_error_input")
  expect_error(suppressWarnings(as_expert_spec(glm(b ~ x1, family = poisson, data = src))),
               "`pretrained`.*Gaussian glm", class = "contamoe_error_input")
  expect_error(as_expert_spec("laplace"), "`pretrained`", class = "contamoe_error_input")
  expect_error(as_expert_spec(NULL), "`pretrained`.*NULL", class = "contamoe_error_input")
  expect_error(as_expert_spec(list(family = "gaussian", eta = 1, nu = 1)), "`pretrained`",
               class = "contamoe_error_input")
  # no residual degrees of freedom: sigma() is NaN
  expect_error(as_expert_spec(lm(y ~ x1, data = src[1:2, ])), "`pretrained`.*variance",
               class = "contamoe_error_input")
})

test_that("as_expert_spec() rejects an lm that fits exactly (zero residual variance)", {
  # sigma() is about 1e-16 here, not exactly 0: the check must allow for round-off.
  exact <- data.frame(x1 = 1:5, y = 2 * (1:5))
  expect_error(as_expert_spec(lm(y ~ x1, data = exact)), "`pretrained`.*variance",
               class = "contamoe_error_input")
})

# ---- cmoe_control() ---------------------------------------------------------

test_that("cmoe_control() validates every setting", {
  expect_error(cmoe_control(tol = 0), "`tol`", class = "contamoe_error_input")
  expect_error(cmoe_control(tol = -1), "`tol`", class = "contamoe_error_input")
  expect_error(cmoe_control(tol = 2), "`tol`.*at most 1", class = "contamoe_error_input")
  expect_error(cmoe_control(tol = NA), "`tol`", class = "contamoe_error_input")
  expect_error(cmoe_control(tol = "1e-8"), "`tol`", class = "contamoe_error_input")
  expect_error(cmoe_control(tol = c(1e-8, 1e-6)), "`tol`", class = "contamoe_error_input")
  expect_error(cmoe_control(maxit = -1), "`maxit`", class = "contamoe_error_input")
  expect_error(cmoe_control(maxit = 2.5), "`maxit`.*whole number", class = "contamoe_error_input")
  expect_error(cmoe_control(maxit = Inf), "`maxit`", class = "contamoe_error_input")
  expect_error(cmoe_control(maxit = 1e8), "`maxit`", class = "contamoe_error_input")
  expect_error(cmoe_control(inner_maxit = 0), "`inner_maxit`", class = "contamoe_error_input")
  expect_error(cmoe_control(inner_maxit = NULL), "`inner_maxit`", class = "contamoe_error_input")
  expect_error(cmoe_control(nu_floor = 0), "`nu_floor`", class = "contamoe_error_input")
  expect_error(cmoe_control(nu_floor = 2), "`nu_floor`", class = "contamoe_error_input")
  expect_error(cmoe_control(nu_floor = NaN), "`nu_floor`", class = "contamoe_error_input")
  expect_error(cmoe_control(foo = 1), "unused argument")
})

# ---- cmoe() -----------------------------------------------------------------

test_that("cmoe() rejects a formula that is not a one-response formula", {
  pd <- paper_data(200, seed = 31, d = 2)
  pre <- pd$pretrained
  expect_error(cmoe("y ~ x1 + x2", data = pd$data, pretrained = pre), "`formula`",
               class = "contamoe_error_input")
  expect_error(cmoe(sum, data = pd$data, pretrained = pre), "`formula`",
               class = "contamoe_error_input")
  expect_error(cmoe(data = pd$data, pretrained = pre), "`formula`",
               class = "contamoe_error_input")
  expect_error(cmoe(~ x1 + x2 - 1, data = pd$data, pretrained = pre), "`formula`.*one response",
               class = "contamoe_error_input")
  expect_error(cmoe(y ~ x1 - 1 | x2 | x1, data = pd$data, pretrained = pre),
               "`formula`.*two right-hand", class = "contamoe_error_input")
  expect_error(cmoe(y | x1 ~ x2 - 1, data = pd$data, pretrained = pre), "`formula`",
               class = "contamoe_error_input")
  # a variable that is nowhere to be found: model.frame()'s error, as for lm()
  expect_error(cmoe(y ~ x1 + no_such_variable_zq - 1, data = pd$data, pretrained = pre),
               "no_such_variable_zq")
})

test_that("cmoe() needs a data frame and a usable pre-trained expert", {
  pd <- paper_data(200, seed = 32, d = 2)
  pre <- pd$pretrained
  f <- y ~ x1 + x2 - 1
  expect_error(cmoe(f, data = as.matrix(pd$data), pretrained = pre), "`data`.*data frame",
               class = "contamoe_error_input")
  expect_error(cmoe(f, data = as.list(pd$data), pretrained = pre), "`data`.*data frame",
               class = "contamoe_error_input")
  expect_error(cmoe(f, data = "pd", pretrained = pre), "`data`", class = "contamoe_error_input")
  expect_error(cmoe(f, data = pd$data), "`pretrained`.*missing", class = "contamoe_error_input")
  expect_error(cmoe(f, data = pd$data, pretrained = "laplace"), "`pretrained`",
               class = "contamoe_error_input")
  src <- data.frame(x1 = pd$data$x1[1:50], b = rep(0:1, 25))
  expect_error(cmoe(f, data = pd$data, pretrained = glm(b ~ x1, family = binomial, data = src)),
               "`pretrained`.*Gaussian glm", class = "contamoe_error_input")
  src$y <- pd$data$y[1:50]
  pre_lm <- lm(y ~ x1, data = src)
  expect_error(cmoe(f, pretrained = pre_lm), "`data`.*fitted model",
               class = "contamoe_error_input")
})

test_that("cmoe() validates mean, K, method and nstart", {
  pd <- paper_data(200, seed = 33, d = 2)
  pre <- pd$pretrained
  f <- y ~ x1 + x2 - 1
  d <- pd$data
  expect_error(cmoe(f, d, pre, mean = "softplus"), "`mean`.*\"softplus\"",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, mean = c("tanh", "linear")), "`mean`",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, K = 0), "`K`.*at least 1", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, K = -1), "`K`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, K = 1.5), "`K`.*whole number", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, K = NA), "`K`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, K = "2"), "`K`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, K = Inf), "`K`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, K = 1:2), "`K`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, method = "bfgs"), "`method`.*\"bfgs\"",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, method = NULL), "`method`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, method = NA), "`method`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, nstart = 0), "`nstart`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, nstart = 1.5), "`nstart`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, nstart = NA), "`nstart`", class = "contamoe_error_input")
})

test_that("cmoe() validates control lists", {
  pd <- paper_data(200, seed = 34, d = 2)
  pre <- pd$pretrained
  f <- y ~ x1 + x2 - 1
  d <- pd$data
  expect_error(cmoe(f, d, pre, control = list(tolerance = 1e-8)), "`control`",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, control = list(1e-8)), "`control`",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, control = "fast"), "`control`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, control = NULL), "`control`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, control = list(tol = -1)), "`tol`",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, control = list(maxit = 1.5)), "`maxit`",
               class = "contamoe_error_input")
})

test_that("cmoe() drops rows with NA under na.omit, as lm() does, and na.fail errors", {
  pd <- paper_data(200, seed = 35, d = 2)
  pre <- pd$pretrained
  d <- pd$data
  d$x1[3] <- NA
  d$y[7] <- NA
  d$x2[11] <- NaN
  fit_na <- cmoe(y ~ x1 + x2 - 1, data = d, pretrained = pre)
  fit_cc <- cmoe(y ~ x1 + x2 - 1, data = d[-c(3, 7, 11), ], pretrained = pre)
  expect_identical(nobs(fit_na), 197L)
  expect_equal(coef(fit_na), coef(fit_cc))
  expect_equal(logLik(fit_na), logLik(fit_cc))
  expect_s3_class(fit_na$na.action, "omit")
  expect_identical(unname(as.integer(fit_na$na.action)), c(3L, 7L, 11L))
  expect_length(fitted(fit_na), 197L)
  fit_omit <- cmoe(y ~ x1 + x2 - 1, data = d, pretrained = pre, na.action = na.omit)
  expect_equal(coef(fit_omit), coef(fit_cc))
  expect_error(cmoe(y ~ x1 + x2 - 1, data = d, pretrained = pre, na.action = na.fail),
               "missing values")

  # an NA only in a column the formula does not use keeps the row
  d2 <- pd$data
  d2$unused <- 1
  d2$unused[5] <- NA
  expect_identical(nobs(cmoe(y ~ x1 + x2 - 1, data = d2, pretrained = pre)), 200L)

  # NA in a variable that only a fitted pre-trained model uses drops the row too
  src <- data.frame(x1 = rnorm(50), w = rnorm(50))
  src$y <- src$x1 + rnorm(50, sd = 0.1)
  d3 <- pd$data
  d3$w <- rnorm(200)
  d3$w[9] <- NA
  fit_lm <- cmoe(y ~ x1 + x2 - 1, data = d3, pretrained = lm(y ~ w, data = src))
  expect_identical(nobs(fit_lm), 199L)
  expect_error(cmoe(y ~ x1 + x2 - 1, data = d3, pretrained = lm(y ~ w, data = src),
                    na.action = na.fail), "missing values")

  # every row incomplete: no observations left
  d4 <- pd$data
  d4$y <- NA_real_
  expect_error(cmoe(y ~ x1 + x2 - 1, data = d4, pretrained = pre), "`data` has 0 complete",
               class = "contamoe_error_input")
})

test_that("cmoe() rejects infinite covariates and infinite or non-numeric responses", {
  pd <- paper_data(200, seed = 36, d = 2)
  pre <- pd$pretrained
  f <- y ~ x1 + x2 - 1
  d <- pd$data; d$x2[4] <- Inf
  expect_error(cmoe(f, d, pre), "`data`.*infinite.*`x2`", class = "contamoe_error_input")
  d <- pd$data; d$x1[4] <- -Inf
  expect_error(cmoe(f, d, pre), "`data`.*infinite.*`x1`", class = "contamoe_error_input")
  d <- pd$data; d$z <- rnorm(200); d$z[2] <- Inf
  expect_error(cmoe(y ~ x1 + x2 - 1 | z, d, pre), "`data`.*infinite.*`z`",
               class = "contamoe_error_input")
  d <- pd$data; d$y[4] <- Inf
  expect_error(cmoe(f, d, pre), "response.*infinite", class = "contamoe_error_input")
  d <- pd$data; d$y[4] <- -Inf
  expect_error(cmoe(f, d, pre), "response.*infinite", class = "contamoe_error_input")
  d <- pd$data; d$y <- as.character(round(d$y, 3))
  expect_error(cmoe(f, d, pre), "response.*numeric.*character", class = "contamoe_error_input")
  d <- pd$data; d$y <- factor(d$y > 0)
  expect_error(cmoe(f, d, pre), "response.*numeric.*factor", class = "contamoe_error_input")
  d <- pd$data; d$y <- d$y > 0
  expect_error(cmoe(f, d, pre), "response.*numeric", class = "contamoe_error_input")
  expect_error(cmoe(cbind(y, x1) ~ x2 - 1, pd$data,
                    expert_spec("laplace", "tanh", eta = 1, nu = 0.001)),
               "response.*numeric vector", class = "contamoe_error_input")
})

test_that("cmoe() checks the pre-trained eta against the expert design", {
  pd <- paper_data(200, seed = 37, d = 2)
  pre <- pd$pretrained # two coefficients, for x1 and x2
  expect_error(cmoe(y ~ x1 + x2, pd$data, pre), "`pretrained`.*`eta`.*3 columns",
               class = "contamoe_error_input")
  expect_error(cmoe(y ~ x1 - 1, pd$data, pre), "`pretrained`.*`eta`.*1 column",
               class = "contamoe_error_input")
  expect_error(cmoe(y ~ -1, pd$data, pre), "`pretrained`.*`eta`",
               class = "contamoe_error_input")
})

test_that("cmoe() checks start values", {
  pd <- paper_data(200, seed = 38, d = 2)
  pre <- pd$pretrained
  f <- y ~ x1 + x2 - 1
  d <- pd$data
  good <- list(beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 0.01)
  expect_error(cmoe(f, d, pre, start = modifyList(good, list(beta = 1))), "`start\\$beta`.*2",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = modifyList(good, list(eta = c(1, 0, 0)))),
               "`start\\$eta`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = modifyList(good, list(tau = c(0, 0)))),
               "`start\\$tau`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = modifyList(good, list(nu = -1))), "`start\\$nu`",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = modifyList(good, list(nu = 0))), "`start\\$nu`",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = modifyList(good, list(beta = c(1, NA)))),
               "`start\\$beta`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = modifyList(good, list(eta = c(Inf, 0)))),
               "`start\\$eta`", class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = good[c("beta", "tau")]), "`start`",
               class = "contamoe_error_input")
  expect_error(cmoe(f, d, pre, start = "auto"), "`start`", class = "contamoe_error_input")
  # K = 2 needs twice as many start values
  expect_error(cmoe(f, d, pre, K = 2, start = good), "`start\\$beta`.*4",
               class = "contamoe_error_input")
  # a fit of another model as the start
  other <- cmoe(y ~ x1 - 1, d, expert_spec("laplace", "tanh", eta = 1, nu = 0.001))
  expect_error(cmoe(f, d, pre, start = other), "`start\\$", class = "contamoe_error_input")
})

test_that("cmoe() needs more observations than parameters", {
  pd <- paper_data(200, seed = 39, d = 2)
  pre <- pd$pretrained
  f <- y ~ x1 + x2 - 1 # 2 (beta) + 1 (tau) + 2 (eta) + 1 (nu) = 6 parameters
  expect_error(cmoe(f, pd$data[1:6, ], pre), "`data` has 6 complete.*6 parameters",
               class = "contamoe_error_input")
  expect_error(cmoe(f, pd$data[1:3, ], pre), "`data`", class = "contamoe_error_input")
  expect_error(cmoe(f, pd$data[1:12, ], pre, K = 2), "12 parameters",
               class = "contamoe_error_input")
  expect_error(cmoe(f, pd$data, pre, subset = x1 > 100), "`data` has 0 complete",
               class = "contamoe_error_input")
  d <- pd$data[1:10, ]
  d$y[1:4] <- NA # 6 complete rows left
  expect_error(cmoe(f, d, pre), "`data` has 6 complete", class = "contamoe_error_input")
})

test_that("cmoe() never stops with an internal error on an extreme but finite response", {
  pd <- paper_data(200, seed = 40, d = 2)
  d <- pd$data
  d$y <- d$y * 1e200
  for (method in c("em", "direct")) {
    res <- tryCatch(suppressWarnings(cmoe(y ~ x1 + x2 - 1, d, pd$pretrained, method = method)),
                    error = function(e) e)
    # either a fit or a classed error from the R layer, not the C layer's
    # "`theta` must be finite" about a vector the user never gave
    expect_true(inherits(res, "cmoe") || inherits(res, "contamoe_error"),
                label = paste0("cmoe(method = \"", method, "\") on y * 1e200 (",
                               if (inherits(res, "error")) conditionMessage(res) else "no error", ")"))
  }
})

test_that("messages say what is wrong with a vector, not only its class and length", {
  pd <- paper_data(200, seed = 41, d = 2)
  # expect_error() returns the condition, so a message that does not match is a
  # failure of its own and the later cases still run
  # NA and Inf inside an otherwise well-formed vector
  cnd <- expect_error(expert_spec("gaussian", "tanh", eta = c(1, NA), nu = 1),
                      class = "contamoe_error_input")
  expect_match(conditionMessage(cnd), "`eta`.*(NA|missing)")
  cnd <- expect_error(expert_spec("gaussian", "tanh", eta = c(1, Inf), nu = 1),
                      class = "contamoe_error_input")
  expect_match(conditionMessage(cnd), "`eta`.*(Inf|infinite)")
  cnd <- expect_error(cmoe(y ~ x1 + x2 - 1, pd$data, pd$pretrained,
                           start = list(beta = c(1, NA), tau = 0, eta = c(-1, 0), nu = 0.01)),
                      class = "contamoe_error_input")
  expect_match(conditionMessage(cnd), "`start\\$beta`.*(NA|missing)")
  # a character matrix and a matrix without rows are not "numeric matrices"
  # for other reasons than the ones the message gives
  cnd <- expect_error(rcmoe(matrix("a", 3, 2), beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1,
                            pretrained = pd$pretrained), class = "contamoe_error_input")
  expect_match(conditionMessage(cnd), "`x`.*character")
  cnd <- expect_error(rcmoe(pd$x[0, ], beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1,
                            pretrained = pd$pretrained), class = "contamoe_error_input")
  expect_match(conditionMessage(cnd), "`x`.*row")
})

# ---- methods ------------------------------------------------------------------

test_that("predict() validates type, newdata and y", {
  pd <- paper_data(200, seed = 51, d = 2)
  fit <- cmoe(y ~ x1 + x2 - 1, pd$data, pd$pretrained)
  new <- data.frame(x1 = c(-1, 0, 1), x2 = c(0, 0, 0))
  expect_error(predict(fit, type = "response"), "`type`.*\"response\"",
               class = "contamoe_error_input")
  expect_error(predict(fit, type = NULL), "`type`", class = "contamoe_error_input")
  expect_error(predict(fit, type = 1), "`type`", class = "contamoe_error_input")
  expect_error(predict(fit, newdata = as.matrix(new)), "`newdata`.*data frame",
               class = "contamoe_error_input")
  expect_error(predict(fit, newdata = list(x1 = 1, x2 = 0)), "`newdata`",
               class = "contamoe_error_input")
  expect_error(predict(fit, new, type = "posterior"), "`newdata`.*response",
               class = "contamoe_error_input")
  expect_error(predict(fit, new, type = "density", y = 1:2), "`y`.*3",
               class = "contamoe_error_input")
  expect_error(predict(fit, new, type = "density", y = c(0, NA, 0)), "`y`",
               class = "contamoe_error_input")
  expect_error(predict(fit, new, type = "density", y = c(0, Inf, 0)), "`y`",
               class = "contamoe_error_input")
  expect_error(predict(fit, new, type = "density", y = c("a", "b", "c")), "`y`",
               class = "contamoe_error_input")
  expect_error(predict(fit, type = "posterior", y = 1:5), "`y`.*200",
               class = "contamoe_error_input")
  expect_error(predict(fit, cbind(new, y = c(0, NA, 0)), type = "posterior"), "`y`",
               class = "contamoe_error_input")
  # a covariate missing from newdata: model.frame()'s error, as for lm()
  expect_error(predict(fit, newdata = data.frame(x1 = 1)), "x2")
})

test_that("predict() gives NA for missing covariates and names `newdata` for infinite ones", {
  pd <- paper_data(200, seed = 52, d = 2)
  fit <- cmoe(y ~ x1 + x2 - 1, pd$data, pd$pretrained)
  # as predict.lm(): a row with a missing covariate gets an NA prediction
  p <- predict(fit, newdata = data.frame(x1 = c(1, NA), x2 = c(0, 0)))
  expect_true(is.finite(p[1]) && is.na(p[2]))
  cnd <- expect_error(predict(fit, newdata = data.frame(x1 = c(1, Inf), x2 = c(0, 0))),
                      class = "contamoe_error_input")
  expect_match(conditionMessage(cnd), "`newdata`.*infinite")
})

test_that("confint() needs a level strictly inside (0, 1)", {
  pd <- paper_data(200, seed = 53, d = 2)
  fit <- cmoe(y ~ x1 + x2 - 1, pd$data, pd$pretrained)
  expect_error(confint(fit, level = 0), "`level`", class = "contamoe_error_input")
  expect_error(confint(fit, level = 1.5), "`level`", class = "contamoe_error_input")
  expect_error(confint(fit, level = -0.5), "`level`", class = "contamoe_error_input")
  expect_error(confint(fit, level = 95), "`level`", class = "contamoe_error_input")
  expect_error(confint(fit, level = NA), "`level`", class = "contamoe_error_input")
  expect_error(confint(fit, level = "0.95"), "`level`", class = "contamoe_error_input")
  expect_error(confint(fit, level = c(0.9, 0.95)), "`level`", class = "contamoe_error_input")
  # level = 1 gives infinite intervals: it is outside the open interval too
  expect_error(confint(fit, level = 1), "`level`", class = "contamoe_error_input")
})

test_that("simulate() and plot() validate their arguments", {
  pd <- paper_data(200, seed = 54, d = 2)
  fit <- cmoe(y ~ x1 + x2 - 1, pd$data, pd$pretrained)
  expect_error(simulate(fit, nsim = 0), "`nsim`", class = "contamoe_error_input")
  expect_error(simulate(fit, nsim = -1), "`nsim`", class = "contamoe_error_input")
  expect_error(simulate(fit, nsim = 1.5), "`nsim`.*whole number", class = "contamoe_error_input")
  expect_error(simulate(fit, nsim = NA), "`nsim`", class = "contamoe_error_input")
  expect_error(simulate(fit, nsim = "2"), "`nsim`", class = "contamoe_error_input")
  grDevices::pdf(NULL)
  expect_error(plot(fit, which = 4), "`which`", class = "contamoe_error_input")
  expect_error(plot(fit, which = 0), "`which`", class = "contamoe_error_input")
  expect_error(plot(fit, which = "a"), "`which`", class = "contamoe_error_input")
  expect_error(plot(fit, which = integer(0)), "`which`", class = "contamoe_error_input")
  grDevices::dev.off()
})

# ---- rcmoe() ------------------------------------------------------------------

test_that("rcmoe() checks lengths against the designs", {
  pd <- paper_data(200, seed = 61, d = 2)
  x <- pd$x
  pre <- pd$pretrained
  expect_error(rcmoe(x, beta = c(1, 1, 1), tau = 0, eta = c(-1, 0), nu = 0.01, pretrained = pre),
               "`beta`.*2.*length 3", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = -1, nu = 0.01, pretrained = pre),
               "`eta`.*2", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = c(1, 1), pretrained = pre),
               "`nu`.*1", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = c(0, 0), eta = c(-1, 0, 1, 0), nu = c(1, 1),
                     pretrained = pre), "`beta`.*4", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = numeric(0), eta = c(-1, 0), nu = 1,
                     pretrained = pre), "`tau`", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1, pretrained = pre,
                     gate_x = x[-1, ]), "`gate_x`.*200 rows.*199", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = 1, tau = 0, eta = c(-1, 0), nu = 1, pretrained = pre,
                     gate_x = x), "`beta`", class = "contamoe_error_input")
  expect_error(rcmoe(cbind(x, x3 = 1), beta = c(1, 1, 1), tau = 0, eta = c(-1, 0, 0), nu = 1,
                     pretrained = pre), "`pretrained`.*`eta`", class = "contamoe_error_input")
})

test_that("rcmoe() rejects non-finite, non-numeric and non-positive inputs", {
  pd <- paper_data(200, seed = 62, d = 2)
  x <- pd$x
  pre <- pd$pretrained
  expect_error(rcmoe(replace(x, 3, NA), beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1,
                     pretrained = pre), "`x`.*NA", class = "contamoe_error_input")
  expect_error(rcmoe(replace(x, 3, Inf), beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1,
                     pretrained = pre), "`x`.*infinite", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1, pretrained = pre,
                     gate_x = replace(x, 3, NaN)), "`gate_x`", class = "contamoe_error_input")
  expect_error(rcmoe(list(1, 2), beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1,
                     pretrained = pre), "`x`.*numeric matrix", class = "contamoe_error_input")
  expect_error(rcmoe(data.frame(a = 1:3, b = letters[1:3]), beta = c(1, 1), tau = 0,
                     eta = c(-1, 0), nu = 1, pretrained = pre), "`x`",
               class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c("1", "1"), tau = 0, eta = c(-1, 0), nu = 1, pretrained = pre),
               "`beta`", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, NA), tau = 0, eta = c(-1, 0), nu = 1, pretrained = pre),
               "`beta`", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = NA, eta = c(-1, 0), nu = 1, pretrained = pre),
               "`tau`", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = Inf, eta = c(-1, 0), nu = 1, pretrained = pre),
               "`tau`", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = -1, pretrained = pre),
               "`nu`.*positive", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 0, pretrained = pre),
               "`nu`.*positive", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1), "`pretrained`",
               class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1, pretrained = "x"),
               "`pretrained`", class = "contamoe_error_input")
  expect_error(rcmoe(x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1, pretrained = pre,
                     mean = "exp"), "`mean`", class = "contamoe_error_input")
})

test_that("rcmoe() does not point to a formula it does not have", {
  pd <- paper_data(200, seed = 63, d = 2)
  msg <- tryCatch(rcmoe(cbind(pd$x, 1), beta = c(1, 1, 1), tau = 0, eta = c(-1, 0, 0), nu = 1,
                        pretrained = pd$pretrained),
                  contamoe_error_input = conditionMessage)
  expect_match(msg, "`pretrained`")
  expect_no_match(msg, "formula")
})

# ---- .Call entry points ---------------------------------------------------------
# Called directly with bad arguments, each must stop with a plain R error
# naming the argument; a crash here takes the whole test run down.

test_that("C_loglik rejects wrong types, dimensions and codes", {
  set.seed(71)
  n <- 20L
  X <- matrix(rnorm(2 * n), n, 2)
  y <- rnorm(n)
  lf0 <- stats::dnorm(y, log = TRUE)
  th <- c(0, 0, 0, 0.1, 0.1, 0) # beta (2), tau, eta (2), log nu
  L <- function(y, xe = X, xg = X, l = lf0, K = 1L, mean = 2L, theta = th, deriv = 2L,
                resp = TRUE) {
    .Call(contamoe:::C_loglik, y, xe, xg, l, K, mean, theta, deriv, resp)
  }
  expect_type(L(y), "list")
  Xi <- X
  storage.mode(Xi) <- "integer"
  expect_error(L(y, xe = Xi), "`xe`.*double matrix")
  expect_error(L(y, xg = Xi), "`xg`.*double matrix")
  # the gate design as column numbers of the expert design
  expect_equal(L(y, xg = 1:2), L(y))
  expect_error(L(y, xg = c(1L, 3L)), "`xg`.*column numbers.*1 to 2")
  expect_error(L(y, xg = c(0L, 1L)), "`xg`.*column numbers")
  expect_error(L(y, xg = c(NA, 1L)), "`xg`.*column numbers")
  expect_error(L(y, xg = 1:3, theta = c(th, 0)), "`xg` has more column numbers")
  expect_error(L(as.character(y)), "`y`")
  expect_error(L(NULL), "`y`")
  expect_error(L(list(y)), "`y`")
  expect_error(L(as.integer(y > 0)), "`y`")
  expect_error(L(numeric(0), xe = X[0, ], xg = X[0, ], l = numeric(0)), "`y`")
  expect_error(L(y, xe = X[-1, ]), "`xe`.*20 rows.*19")
  expect_error(L(y, xg = X[-1, ]), "`xg`.*20 rows")
  expect_error(L(y, xe = as.vector(X)), "`xe`")
  expect_error(L(y, xe = as.data.frame(X)), "`xe`")
  expect_error(L(y, xe = array(X, c(n, 2, 1))), "`xe`")
  expect_error(L(y, l = lf0[-1]), "`lf0`")
  expect_error(L(y, l = as.integer(lf0)), "`lf0`")
  expect_error(L(y, K = 1), "`K`")
  expect_error(L(y, K = 0L), "`K`")
  expect_error(L(y, K = NA_integer_), "`K`")
  expect_error(L(y, K = c(1L, 1L)), "`K`")
  expect_error(L(y, K = 1001L), "`K`")
  expect_error(L(y, K = 2L), "`theta`.*12")
  expect_error(L(y, mean = 0L), "`mean`")
  expect_error(L(y, mean = 6L), "`mean`")
  expect_error(L(y, mean = NA_integer_), "`mean`")
  expect_error(L(y, mean = "tanh"), "`mean`")
  expect_error(L(y, theta = th[-1]), "`theta`.*6")
  expect_error(L(y, theta = c(th, 0)), "`theta`.*6")
  expect_error(L(y, theta = as.integer(th)), "`theta`")
  expect_error(L(y, theta = NULL), "`theta`")
  expect_error(L(y, theta = replace(th, 1, NA)), "`theta`.*finite")
  expect_error(L(y, theta = replace(th, 1, Inf)), "`theta`.*finite")
  expect_error(L(y, theta = replace(th, 6, -Inf)), "`theta`.*finite")
  expect_error(L(y, deriv = 2), "`deriv`")
  expect_error(L(y, deriv = 1:2), "`deriv`")
  expect_error(L(y, deriv = NULL), "`deriv`")
  expect_error(L(y, resp = 1L), "`resp` must be TRUE or FALSE")
  expect_error(L(y, resp = NA), "`resp` must be TRUE or FALSE")
  expect_error(L(y, resp = c(TRUE, FALSE)), "`resp` must be TRUE or FALSE")
  expect_error(.Call(contamoe:::C_loglik, y, X, X, lf0, 1L, 2L, th, 0L, TRUE, 1),
               "number of arguments")
})

test_that("C_loglik rejects unknown derivative levels", {
  set.seed(72)
  n <- 20L
  X <- matrix(rnorm(2 * n), n, 2)
  y <- rnorm(n)
  lf0 <- stats::dnorm(y, log = TRUE)
  th <- c(0, 0, 0, 0.1, 0.1, 0)
  # deriv is 0 (log-likelihood), 1 (+ score) or 2 (+ Hessian)
  expect_error(.Call(contamoe:::C_loglik, y, X, X, lf0, 1L, 2L, th, 3L, TRUE), "`deriv`")
  expect_error(.Call(contamoe:::C_loglik, y, X, X, lf0, 1L, 2L, th, -1L, TRUE), "`deriv`")
  expect_error(.Call(contamoe:::C_loglik, y, X, X, lf0, 1L, 2L, th, NA_integer_, TRUE), "`deriv`")
})

test_that("C_em and C_direct reject wrong data, theta and control", {
  set.seed(73)
  n <- 20L
  X <- matrix(rnorm(2 * n), n, 2)
  y <- rnorm(n)
  lf0 <- stats::dnorm(y, log = TRUE)
  th <- c(0, 0, 0, 0.1, 0.1, 0)
  ctl <- c(50, 10, 1e-8, -20, 20) # maxit, inner_maxit, tol, log nu floor, gate bound
  for (entry in list(contamoe:::C_em, contamoe:::C_direct)) {
    fit <- function(y, xe = X, xg = X, l = lf0, K = 1L, mean = 2L, theta = th,
                    control = ctl) {
      .Call(entry, y, xe, xg, l, K, mean, theta, control)
    }
    expect_type(fit(y)$status, "integer")
    expect_error(fit(y, control = ctl[-1]), "`control`.*length 5")
    expect_error(fit(y, control = as.integer(ctl)), "`control`")
    expect_error(fit(y, control = NULL), "`control`")
    expect_error(fit(y, control = as.list(ctl)), "`control`")
    expect_error(fit(y, control = c(-1, 10, 1e-8, -20, 20)), "`control`")
    expect_error(fit(y, control = c(1e8, 10, 1e-8, -20, 20)), "`control`")
    expect_error(fit(y, control = c(NA, 10, 1e-8, -20, 20)), "`control`")
    expect_error(fit(y, control = c(50, 0, 1e-8, -20, 20)), "`control`")
    expect_error(fit(y, control = c(50, 10, 0, -20, 20)), "`control`")
    expect_error(fit(y, control = c(50, 10, NaN, -20, 20)), "`control`")
    expect_error(fit(y, control = c(50, 10, 1e-8, NA, 20)), "`control`")
    expect_error(fit(y, control = c(50, 10, 1e-8, -20, 0)), "`control`")
    expect_error(fit(y, control = c(50, 10, 1e-8, -20, Inf)), "`control`")
    expect_error(fit(y, xe = X[-1, ]), "`xe`")
    expect_error(fit(y, xg = X[-1, ]), "`xg`")
    expect_error(fit(as.character(y)), "`y`")
    expect_error(fit(y, l = lf0[-1]), "`lf0`")
    expect_error(fit(y, K = 2L), "`theta`")
    expect_error(fit(y, mean = 9L), "`mean`")
    expect_error(fit(y, theta = th[-1]), "`theta`")
    expect_error(fit(y, theta = replace(th, 2, NaN)), "`theta`.*finite")
    expect_error(fit(y, theta = replace(th, 2, Inf)), "`theta`.*finite")
    # non-finite data are a numerical outcome: a status code, not a crash
    expect_identical(fit(replace(y, 1, NA))$status, 2L)
    expect_identical(fit(y, l = replace(lf0, 1, Inf))$status, 2L)
  }
})

test_that("C_mstep rejects wrong responsibilities and control", {
  set.seed(74)
  n <- 20L
  X <- matrix(rnorm(2 * n), n, 2)
  y <- rnorm(n)
  lf0 <- stats::dnorm(y, log = TRUE)
  th <- c(0, 0, 0, 0.1, 0.1, 0)
  ctl <- c(50, 10, 1e-8, -20, 20)
  resp <- cbind(rep(0.5, n), rep(0.5, n))
  M <- function(r = resp, control = ctl, theta = th, xe = X) {
    .Call(contamoe:::C_mstep, y, xe, X, lf0, 1L, 2L, theta, r, control)
  }
  expect_length(M(), 6L)
  expect_error(M(r = resp[, 1, drop = FALSE]), "`resp`.*20 rows and 2 columns")
  expect_error(M(r = resp[-1, ]), "`resp`")
  expect_error(M(r = as.vector(resp)), "`resp`")
  expect_error(M(r = -resp), "`resp`.*non-negative")
  expect_error(M(r = replace(resp, 1, NA)), "`resp`")
  ri <- resp
  storage.mode(ri) <- "integer"
  expect_error(M(r = ri), "`resp`")
  expect_error(M(r = NULL), "`resp`")
  expect_error(M(control = ctl[1:3]), "`control`")
  expect_error(M(theta = th[-1]), "`theta`")
  expect_error(M(theta = replace(th, 1, NA)), "`theta`")
  expect_error(M(xe = X[-1, ]), "`xe`")
  expect_error(.Call(contamoe:::C_mstep, y, X, X, lf0, 1L, 2L, th, resp), "number of arguments")
})

test_that("C_mstep rejects infinite responsibilities", {
  set.seed(75)
  n <- 20L
  X <- matrix(rnorm(2 * n), n, 2)
  y <- rnorm(n)
  lf0 <- stats::dnorm(y, log = TRUE)
  resp <- cbind(rep(0.5, n), rep(0.5, n))
  resp[1, 1] <- Inf
  expect_error(.Call(contamoe:::C_mstep, y, X, X, lf0, 1L, 2L, c(0, 0, 0, 0.1, 0.1, 0), resp,
                     c(50, 10, 1e-8, -20, 20)), "`resp`")
})

test_that("C_mean_eval rejects wrong codes and types", {
  ME <- function(mean, u) .Call(contamoe:::C_mean_eval, mean, u)
  expect_named(ME(2L, c(-1, 0, 1)), c("h", "dh", "d2h"))
  expect_error(ME(0L, 1), "`mean`.*unknown")
  expect_error(ME(6L, 1), "`mean`.*unknown")
  expect_error(ME(NA_integer_, 1), "`mean`")
  expect_error(ME(2, 1), "`mean`")
  expect_error(ME("tanh", 1), "`mean`")
  expect_error(ME(c(1L, 2L), 1), "`mean`")
  expect_error(ME(NULL, 1), "`mean`")
  expect_error(ME(2L, 1L), "`u`")
  expect_error(ME(2L, "a"), "`u`")
  expect_error(ME(2L, NULL), "`u`")
  expect_error(ME(2L, list(1)), "`u`")
  # non-finite u gives non-finite values, not an error or a crash
  expect_length(ME(4L, c(NA, Inf, -Inf, NaN))$h, 4L)
})

test_that("C_log_f0 rejects wrong codes, types and parameters", {
  set.seed(76)
  y <- rnorm(10)
  m0 <- rnorm(10)
  LF <- function(family = 1L, yy = y, m = m0, nu0 = 1, df = NA_real_) {
    .Call(contamoe:::C_log_f0, family, yy, m, nu0, df)
  }
  expect_equal(LF(), stats::dnorm(y, m0, log = TRUE))
  expect_error(LF(0L), "`family`.*unknown")
  expect_error(LF(4L), "`family`.*unknown")
  expect_error(LF(NA_integer_), "`family`")
  expect_error(LF(1), "`family`")
  expect_error(LF("gaussian"), "`family`")
  expect_error(LF(m = m0[-1]), "`y` and `m0`")
  expect_error(LF(yy = as.integer(y > 0)), "`y`")
  expect_error(LF(yy = NULL, m = NULL), "`y`")
  expect_error(LF(nu0 = 0), "`nu0`")
  expect_error(LF(nu0 = -1), "`nu0`")
  expect_error(LF(nu0 = NA_real_), "`nu0`")
  expect_error(LF(nu0 = Inf), "`nu0`")
  expect_error(LF(nu0 = 1L), "`nu0`")
  expect_error(LF(nu0 = c(1, 2)), "`nu0`")
  expect_error(LF(3L, df = 2), "`df`.*greater than 2")
  expect_error(LF(3L, df = NA_real_), "`df`")
  expect_error(LF(3L, df = NULL), "`df`")
  expect_error(LF(3L, df = 5L), "`df`")
  expect_error(.Call(contamoe:::C_log_f0, 1L, y, m0, 1), "number of arguments")
})

test_that("C_log_f0 rejects an infinite Student-t df instead of returning NaN", {
  expect_error(.Call(contamoe:::C_log_f0, 3L, c(0, 1), c(0, 0), 1, Inf), "`df`")
})

# ---- pinned messages ------------------------------------------------------------

test_that("error messages are stable", {
  pd <- paper_data(200, seed = 81, d = 2)
  pre <- pd$pretrained
  d <- pd$data
  fit <- cmoe(y ~ x1 + x2 - 1, d, pre)
  expect_snapshot(expert_spec("cauchy", "tanh", eta = 1, nu = 1), error = TRUE)
  expect_snapshot(expert_spec("laplace", "tanh", eta = 1, nu = 0), error = TRUE)
  expect_snapshot(expert_spec("student", "tanh", eta = 1, nu = 1), error = TRUE)
  expect_snapshot(expert_spec("student", "tanh", eta = 1, nu = 1, df = 2), error = TRUE)
  expect_snapshot(expert_spec("gaussian", "tanh", eta = 1, nu = 1, df = 5), error = TRUE)
  expect_snapshot(cmoe_control(maxit = 2.5), error = TRUE)
  expect_snapshot(cmoe("y ~ x1", data = d, pretrained = pre), error = TRUE)
  expect_snapshot(cmoe(y ~ x1 + x2 - 1, data = as.matrix(d), pretrained = pre), error = TRUE)
  expect_snapshot(cmoe(y ~ x1 + x2 - 1, data = d, pretrained = pre, K = 0), error = TRUE)
  expect_snapshot(cmoe(y ~ x1 + x2, data = d, pretrained = pre), error = TRUE)
  expect_snapshot(cmoe(y ~ x1 + x2 - 1, data = d[1:6, ], pretrained = pre), error = TRUE)
  expect_snapshot(cmoe(y ~ x1 + x2 - 1, data = d, pretrained = pre,
                       start = list(beta = 1, tau = 0, eta = c(-1, 0), nu = 1)), error = TRUE)
  expect_snapshot(cmoe(y ~ x1 + x2 - 1, data = d, pretrained = pre, K = 1.5), error = TRUE)
  expect_snapshot(predict(fit, type = "response"), error = TRUE)
  expect_snapshot(confint(fit, level = 1.5), error = TRUE)
  expect_snapshot(rcmoe(pd$x, beta = c(1, 1), tau = 0, eta = c(-1, 0), nu = 1, pretrained = pre,
                        gate_x = pd$x[-1, ]), error = TRUE)
})
