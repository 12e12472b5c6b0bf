# contamoe against flexmix on the nearest model flexmix can fit.
#
#   Rscript bench/bench-flexmix.R        (from the package root)
#   BENCH_REPS=5 Rscript bench/bench-flexmix.R
#
# Data (d = 8, n = 1e4 and 1e5): x ~ N(0, I_8), a contaminated model with
# linear means and an intercept, Gaussian pre-trained expert
#   f0 = N(0.5 + x1, 0.1),  prompt N(-0.5 - x1 + 0.5 x2, 0.05),
#   s(x) = plogis(x'1/sqrt(8) + 0.5).
# flexmix fits two *free* Gaussian linear-regression experts with a
# multinomial-logit concomitant (gate) on the same covariates:
#   flexmix(y ~ x1 + ... + x8, k = 2, model = FLXMRglm(),
#           concomitant = FLXPmultinom(~ x1 + ... + x8))
# which contains the contaminated model (the truth) as the special case where
# one expert equals f0. contamoe fits cmoe(y ~ x1 + ... + x8, mean = "linear")
# with the pre-trained expert fixed (19 free parameters against flexmix's 29).
# Both start from the same point: truth perturbed by N(0, 0.05^2) for
# contamoe, and for flexmix the posterior probabilities of that start
# (`cluster =`), so that its first M-step lands near the same place.
# flexmix runs with its default tolerance (1e-6 relative change of the
# log-likelihood) and iter.max = 200; contamoe with its default control
# (tol 1e-10) and, for a like-for-like stopping rule, with tol = 1e-6.
# Each fit is timed BENCH_REPS (default 3) times; medians are reported.

args_file <- function() {
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1L]))) else "bench"
}
if (!requireNamespace("flexmix", quietly = TRUE)) {
  repos <- getOption("repos")
  if (is.null(repos) || identical(unname(repos["CRAN"]), "@CRAN@")) {
    options(repos = c(CRAN = "https://cloud.r-project.org"))
  }
  install.packages("flexmix")
}
suppressPackageStartupMessages({
  library(contamoe)
  library(flexmix)
})
options(width = 200)

reps <- as.integer(Sys.getenv("BENCH_REPS", "3"))
default_method <- eval(formals(contamoe::cmoe)$method)[1L]
cat(sprintf("contamoe %s, flexmix %s, nnet %s; R %s; %d timed runs per fit (median reported)\n",
            format(utils::packageVersion("contamoe")), format(utils::packageVersion("flexmix")),
            format(utils::packageVersion("nnet")), getRversion(), reps))
cat(sprintf("cmoe() default method: \"%s\"\n\n", default_method))

source(file.path(args_file(), "timing.R"))

d <- 8L
xn <- paste0("x", seq_len(d))
pre <- expert_spec("gaussian", "linear", eta = c(0.5, 1, rep(0, d - 1L)), nu = 0.1)
truth <- list(beta = rep(1 / sqrt(d), d), tau = 0.5,
              eta = c(-0.5, -1, 0.5, rep(0, d - 2L)), nu = 0.05)
rhs <- paste(xn, collapse = " + ")
fml <- stats::as.formula(paste("y ~", rhs))

simulate_data <- function(n) {
  x <- matrix(stats::rnorm(n * d), n, d, dimnames = list(NULL, xn))
  xi <- cbind(`(Intercept)` = 1, x)
  dat <- rcmoe(xi, beta = truth$beta, tau = truth$tau, eta = truth$eta, nu = truth$nu,
               pretrained = pre, mean = "linear", gate_x = x)
  dat[, c("y", xn)]
}

# posterior of (pre-trained, prompt) at a parameter set, for flexmix's start
posterior <- function(dat, par) {
  x <- as.matrix(dat[, xn])
  xi <- cbind(1, x)
  a <- drop(x %*% par$beta) + par$tau
  l0 <- stats::dnorm(dat$y, drop(xi %*% pre$eta), sqrt(pre$nu), log = TRUE)
  l1 <- stats::dnorm(dat$y, drop(xi %*% par$eta), sqrt(par$nu), log = TRUE)
  r <- stats::plogis(a + l1 - l0)
  cbind(1 - r, r)
}

rows <- list()
for (n in c(1e4, 1e5)) {
  set.seed(100L + n / 1e4)
  dat <- simulate_data(n)
  start <- list(beta = truth$beta + stats::rnorm(d, 0, 0.05),
                tau = truth$tau + stats::rnorm(1, 0, 0.05),
                eta = truth$eta + stats::rnorm(d + 1L, 0, 0.05),
                nu = truth$nu * exp(stats::rnorm(1, 0, 0.05)))
  post <- posterior(dat, start)

  fits <- list(
    flexmix = function() {
      f <- flexmix(fml, data = dat, k = 2, cluster = post,
                   model = FLXMRglm(family = "gaussian"),
                   concomitant = FLXPmultinom(stats::as.formula(paste("~", rhs))),
                   control = list(iter.max = 200, minprior = 0))
      list(iter = f@iter, loglik = f@logLik, conv = f@converged,
           npar = f@df)
    },
    cm_em = function() {
      f <- suppressWarnings(cmoe(fml, data = dat, pretrained = pre, mean = "linear",
                                 method = "em", start = start))
      list(iter = f$iterations, loglik = f$loglik, conv = f$converged, npar = f$npar)
    },
    cm_direct = function() {
      f <- suppressWarnings(cmoe(fml, data = dat, pretrained = pre, mean = "linear",
                                 method = "direct", start = start))
      list(iter = f$iterations, loglik = f$loglik, conv = f$converged, npar = f$npar)
    },
    cm_default_tol6 = function() {
      f <- suppressWarnings(cmoe(fml, data = dat, pretrained = pre, mean = "linear",
                                 method = default_method, start = start,
                                 control = cmoe_control(tol = 1e-6)))
      list(iter = f$iterations, loglik = f$loglik, conv = f$converged, npar = f$npar)
    })
  labels <- c("flexmix (tol 1e-6)", "cmoe() em (tol 1e-10)", "cmoe() direct (tol 1e-10)",
              sprintf("cmoe() %s (tol 1e-6)", default_method))
  timed <- time_interleaved(fits, reps)
  info <- timed$info
  med <- timed$median
  iters <- vapply(info, function(i) as.numeric(i$iter), numeric(1))
  per_iter <- med / pmax(iters, 1)
  for (m in seq_along(fits)) {
    rows[[length(rows) + 1L]] <- data.frame(
      fit = labels[m], n = n, npar = info[[m]]$npar, median_s = med[m], iter = iters[m],
      s_per_iter = per_iter[m],
      flexmix_over_this_fit = med[1L] / med[m],
      flexmix_over_this_iter = per_iter[1L] / per_iter[m],
      loglik = sprintf("%.4f", info[[m]]$loglik), conv = info[[m]]$conv)
  }
  cat(sprintf("done: n = %g\n", n))
}
tab <- do.call(rbind, rows)
cat("\n== flexmix (2 free Gaussian regressions + multinomial gate) vs contamoe (pre-trained fixed) ==\n")
cat("flexmix_over_this_* = flexmix's median time (per fit / per iteration) divided by this row's\n\n")
print(format(tab, digits = 3), row.names = FALSE)

cat("\n== Target at n = 1e5: contamoe's default >= 50x faster than flexmix per fit ==\n")
t5 <- tab[tab$n == 1e5, ]
lab <- sprintf("cmoe() %s (tol 1e-10)", default_method)
ratio <- t5$flexmix_over_this_fit[t5$fit == lab]
cat(sprintf("  %-40s %7.1fx  %s\n", paste(lab, "vs flexmix"), ratio,
            if (ratio >= 50) "OK" else "MISSED"))
ratio6 <- t5$flexmix_over_this_fit[t5$fit == sprintf("cmoe() %s (tol 1e-6)", default_method)]
cat(sprintf("  %-40s %7.1fx  %s\n", "same stopping rule as flexmix (tol 1e-6)", ratio6,
            if (ratio6 >= 50) "OK" else "MISSED"))
