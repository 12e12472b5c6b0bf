# Rate studies: reproducibility across plans, slopes, degenerate fits.

test_that("rate_study is identical under sequential and multisession plans", {
  skip_if_not_installed("future")
  ns <- c(300, 600)
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  a <- rate_study(c("distinguishable", "nondist_ii"), n = ns, reps = 3, seed = 7)
  future::plan(future::multisession, workers = 2)
  b <- rate_study(c("distinguishable", "nondist_ii"), n = ns, reps = 3, seed = 7)
  drop_time <- function(s) s[setdiff(names(s), "seconds")]
  expect_identical(drop_time(a), drop_time(b))
  expect_equal(nrow(a), 12L)
  expect_named(a, c("setting", "n", "rep", "beta", "exp_tau", "tau", "eta", "nu", "loss",
                    "loss_type", "loglik", "iterations", "converged", "at_floor",
                    "gate_runaway", "degenerate", "error", "seconds"))
  future::plan(future::sequential)
  c2 <- rate_study(c("distinguishable", "nondist_ii"), n = ns, reps = 3, seed = 8)
  expect_false(identical(drop_time(a)$beta, drop_time(c2)$beta))
})

test_that("the distinguishable setting gives slopes near -1/2", {
  study <- rate_study("distinguishable", n = round(10^seq(3, 5, length.out = 6)), reps = 8,
                      seed = 2024)
  expect_false(any(study$degenerate))
  sl <- rate_slopes(study)
  main <- sl[sl$parameter %in% c("beta", "exp_tau", "eta", "nu"), ]
  expect_true(all(abs(main$slope + 0.5) < 0.1), info = paste(round(main$slope, 3), collapse = " "))
  expect_true(all(main$lower < main$slope & main$slope < main$upper))
  expect_equal(main$theory, rep(-0.5, 4))
  path <- tempfile(fileext = ".png")
  grDevices::png(path, width = 800, height = 800)
  expect_invisible(plot(study))
  grDevices::dev.off()
  expect_gt(file.size(path), 1000)
  unlink(path)
})

test_that("failed and degenerate fits are recorded, never abort, and can be excluded", {
  study <- rate_study("nondist_ii", n = c(200, 400, 800), reps = 4, seed = 3,
                      control = cmoe_control(maxit = 2))
  expect_true(all(!study$converged | study$iterations < 2))
  expect_true(all(study$degenerate[!study$converged]))
  inc <- rate_slopes(study, degenerate = "include")
  exc <- rate_slopes(study, degenerate = "exclude")
  expect_equal(unique(inc$degenerate), "include")
  expect_equal(unique(exc$degenerate), "exclude")
  expect_true(all(exc$fits <= inc$fits))
  expect_equal(inc$degenerate_fits[1], sum(study$degenerate))
  bad <- rate_study(function(n) {
    s <- paper_setting("distinguishable", n)
    s$draw_x <- function(n) stop("no covariates today")
    s
  }, n = c(100, 200), reps = 1)
  expect_true(all(bad$error == "no covariates today"))
  expect_output(print(bad), "2 failed")
})

test_that("rate_study fits over-specified models and measures them by the Voronoi loss", {
  st <- rate_study("distinguishable", n = c(500, 1000, 2000), reps = 2, K = 2, seed = 4)
  expect_equal(unique(st$loss_type), "voronoi")
  expect_true(all(is.na(st$beta)))
  expect_true(all(is.finite(st$loss)))
  sl <- rate_slopes(st, parameters = "loss")
  expect_true(is.na(sl$theory))
})
