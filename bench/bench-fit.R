# Fit timings: contamoe against the pure-R reference fitters of
# bench/reference.R, all in one R process so that machine noise cancels.
#
#   Rscript bench/bench-fit.R            (from the package root)
#   BENCH_REPS=7 Rscript bench/bench-fit.R
#
# For the paper's distinguishable setting and non-distinguishable case (i),
# d = 8, n = 1e4 and 1e5: one data set and one start (truth perturbed by
# N(0, 0.05^2); log nu perturbed likewise) per (setting, n), shared by every
# method; each method is timed BENCH_REPS (default 5) times, methods
# interleaved within each repetition, and the median is reported.
#
# Methods
#   cmoe()/<default>   the formula interface with its default method (model
#                      frame, fit, observed information, diagnostics)
#   cmoe()/<other>     the formula interface with the other method
#   cmoe_fit/em        the matrix workhorse contamoe:::cmoe_fit() on a
#   cmoe_fit/direct    prebuilt contamoe:::cm_problem() (what rate studies call)
#   ref_newton         pure-R Newton with the analytic Hessian (tol 1e-10)
#   ref_em_bfgs        pure-R EM with optim(BFGS) M-steps (tol 1e-8)
#
# Also: ns per observation of one log-likelihood pass and of one score and
# Hessian evaluation (contamoe:::cm_loglik(prob, theta, deriv, resp = FALSE):
# the bare pass, without allocating the n x 2 responsibilities), and the cost
# of one iteration of each contamoe method in log-likelihood passes (the
# workhorse's median time, everything included, over its iterations).

args_file <- function() {
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1L]))) else "bench"
}
source(file.path(args_file(), "reference.R"))
source(file.path(args_file(), "timing.R"))
suppressPackageStartupMessages(library(contamoe))

`%||%` <- function(a, b) if (is.null(a) || !nzchar(a)) b else a
options(width = 200)
reps <- as.integer(Sys.getenv("BENCH_REPS", "5"))
default_method <- eval(formals(contamoe::cmoe)$method)[1L]
other_method <- setdiff(c("em", "direct"), default_method)
cat(sprintf("contamoe %s (%s); R %s; BLAS %s\n", format(utils::packageVersion("contamoe")),
            dirname(system.file(package = "contamoe")), getRversion(),
            basename(extSoftVersion()[["BLAS"]] %||% "?")))
cat(sprintf("cmoe() default method: \"%s\"; %d timed runs per method (median reported)\n\n",
            default_method, reps))


# seconds per call of f(), repeated until at least `min_time` seconds
per_call <- function(f, min_time = 0.5) {
  f()
  k <- 0L
  t0 <- proc.time()[["elapsed"]]
  repeat {
    f()
    k <- k + 1L
    tt <- proc.time()[["elapsed"]] - t0
    if (tt >= min_time) return(tt / k)
  }
}

ctl <- cmoe_control()
rows <- list()
pass_rows <- list()
for (name in c("distinguishable", "nondist_i")) {
  for (n in c(1e4, 1e5)) {
    dat <- ref_paper_data(name, n, seed = 20250L + n / 1e4)
    set.seed(7L)
    start <- ref_perturb(dat$setting$truth, 0.05)
    th0 <- ref_pack(start)
    pre <- dat$setting$pretrained
    prob <- contamoe:::cm_problem(dat$y, dat$x, dat$x, dat$lf0, 1L, "tanh")
    theta0 <- contamoe:::to_internal(prob, start)

    methods <- list(
      function() {
        f <- suppressWarnings(cmoe(y ~ . - 1, data = dat$data, pretrained = pre,
                                   method = default_method, start = start))
        list(iter = f$iterations, loglik = f$loglik, conv = f$converged)
      },
      function() {
        f <- suppressWarnings(cmoe(y ~ . - 1, data = dat$data, pretrained = pre,
                                   method = other_method, start = start))
        list(iter = f$iterations, loglik = f$loglik, conv = f$converged)
      },
      function() {
        r <- contamoe:::cmoe_fit(prob, "em", theta0, 1L, ctl)
        list(iter = r$iter, loglik = r$loglik, conv = r$status == 0L)
      },
      function() {
        r <- contamoe:::cmoe_fit(prob, "direct", theta0, 1L, ctl)
        list(iter = r$iter, loglik = r$loglik, conv = r$status == 0L)
      },
      function() {
        r <- ref_newton(dat$y, dat$x, dat$lf0, th0)
        list(iter = r$iterations, loglik = r$loglik, conv = r$converged)
      },
      function() {
        r <- ref_em_bfgs(dat$y, dat$x, dat$lf0, th0)
        list(iter = r$iterations, loglik = r$loglik, conv = r$converged)
      })
    labels <- c(paste0("cmoe()/", default_method), paste0("cmoe()/", other_method),
                "cmoe_fit/em", "cmoe_fit/direct", "ref_newton", "ref_em_bfgs")
    timed <- time_interleaved(methods, reps)
    times <- timed$times
    info <- timed$info
    med <- timed$median
    base_cmoe <- med[1L]
    base_wh <- med[match(paste0("cmoe_fit/", default_method), labels)]
    for (m in seq_along(methods)) {
      rows[[length(rows) + 1L]] <- data.frame(
        method = labels[m], setting = name, n = n, median_s = med[m],
        min_s = min(times[, m]), x_cmoe_default = med[m] / base_cmoe,
        x_workhorse_default = med[m] / base_wh, iter = info[[m]]$iter,
        loglik = sprintf("%.6f", info[[m]]$loglik), conv = info[[m]]$conv)
    }

    # cost of single passes, at the truth (internal scale)
    th_true <- contamoe:::to_internal(prob, dat$setting$truth)
    s0 <- per_call(function() contamoe:::cm_loglik(prob, th_true, 0L, resp = FALSE))
    s1 <- per_call(function() contamoe:::cm_loglik(prob, th_true, 1L, resp = FALSE))
    s2 <- per_call(function() contamoe:::cm_loglik(prob, th_true, 2L, resp = FALSE))
    sref0 <- per_call(function() ref_loglik(ref_pack(dat$setting$truth), dat$y, dat$x, dat$lf0, 0L))
    sref2 <- per_call(function() ref_loglik(ref_pack(dat$setting$truth), dat$y, dat$x, dat$lf0, 2L))
    per_iter <- function(lab) {
      i <- match(lab, labels)
      med[i] / max(info[[i]]$iter, 1L)
    }
    pass_rows[[length(pass_rows) + 1L]] <- data.frame(
      setting = name, n = n,
      loglik_ns_obs = 1e9 * s0 / n, score_ns_obs = 1e9 * s1 / n, hessian_ns_obs = 1e9 * s2 / n,
      ref_loglik_ns_obs = 1e9 * sref0 / n, ref_hessian_ns_obs = 1e9 * sref2 / n,
      hessian_in_passes = s2 / s0,
      em_iter_in_passes = per_iter("cmoe_fit/em") / s0,
      direct_iter_in_passes = per_iter("cmoe_fit/direct") / s0,
      direct_iter_in_hessian_passes = per_iter("cmoe_fit/direct") / s2)
    cat(sprintf("done: %s, n = %g\n", name, n))
  }
}

tab <- do.call(rbind, rows)
cat("\n== Fit times (median of", reps, "runs; same data and start for every method) ==\n")
cat("x_cmoe_default = median / median of cmoe() with its default method;\n",
    "x_workhorse_default = median / median of cmoe_fit() with the default method\n\n", sep = "")
print(format(tab, digits = 3), row.names = FALSE)

ptab <- do.call(rbind, pass_rows)
cat("\n== Cost of one pass (ns per observation) and of one iteration (in log-likelihood passes) ==\n")
cat("loglik/score/hessian: contamoe:::cm_loglik(prob, theta, deriv = 0/1/2, resp = FALSE);",
    "ref_*: bench/reference.R\n\n")
print(format(ptab, digits = 3), row.names = FALSE)

# targets at n = 1e5
cat("\n== Targets at n = 1e5 ==\n")
check <- function(what, value, ok) {
  cat(sprintf("  %-62s %10s  %s\n", what, value, if (ok) "OK" else "MISSED"))
}
for (name in unique(tab$setting)) {
  t5 <- tab[tab$n == 1e5 & tab$setting == name, ]
  g <- function(lab) t5$median_s[t5$method == lab]
  dflt <- g(paste0("cmoe()/", default_method))
  wh <- g(paste0("cmoe_fit/", default_method))
  cat(name, ":\n", sep = "")
  check(sprintf("fit by cmoe() default (%s) <= 0.1 s", default_method),
        sprintf("%.3f s", dflt), dflt <= 0.1)
  check(sprintf("fit by cmoe_fit() default (%s) <= 0.1 s", default_method),
        sprintf("%.3f s", wh), wh <= 0.1)
  check("ref_newton / cmoe() default >= 8", sprintf("%.1fx", g("ref_newton") / dflt),
        g("ref_newton") / dflt >= 8)
  check("ref_em_bfgs / cmoe() default >= 40", sprintf("%.1fx", g("ref_em_bfgs") / dflt),
        g("ref_em_bfgs") / dflt >= 40)
  p5 <- ptab[ptab$n == 1e5 & ptab$setting == name, ]
  pi_def <- if (default_method == "em") p5$em_iter_in_passes else p5$direct_iter_in_passes
  check(sprintf("one %s iteration <= 3 log-likelihood passes", default_method),
        sprintf("%.2f", pi_def), pi_def <= 3)
}
