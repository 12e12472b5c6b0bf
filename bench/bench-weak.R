# The weakly identified case: non-distinguishable case (ii) with eta* = eta0
# (the prompt's mean is the pre-trained expert's; only the variances differ),
# where EM needs thousands of iterations.
#
#   Rscript bench/bench-weak.R            (from the package root)
#
# d = 8, n = 1e4 and 3e4 (BENCH_WEAK_N; at smaller n the MLE often does not
# exist: the gate runs off), start = truth perturbed by N(0, 0.05^2), one data
# set per n. For
# each n: cmoe() with its default method, and EM run long (tol 1e-14, up to
# 50000 iterations; minutes) on the same problem as the reference optimum. Prints
# seconds, iterations, final log-likelihood, status, and the log-likelihood
# of the default fit minus that of the long EM run (>= -1e-6 * |loglik|
# means the default reached the same optimum).

args_file <- function() {
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1L]))) else "bench"
}
source(file.path(args_file(), "reference.R"))
suppressPackageStartupMessages(library(contamoe))
options(width = 200)
default_method <- eval(formals(contamoe::cmoe)$method)[1L]
cat(sprintf("contamoe %s (%s); cmoe() default method: \"%s\"\n\n",
            format(utils::packageVersion("contamoe")), dirname(system.file(package = "contamoe")),
            default_method))

status_msg <- c("converged", "iteration limit", "not finite", "singular", "gate ran off")
rows <- list()
for (n in as.numeric(strsplit(Sys.getenv("BENCH_WEAK_N", "1e4,3e4"), ",")[[1L]])) {
  dat <- ref_paper_data("nondist_ii", n, seed = 20250L + n / 1e4)
  set.seed(7L)
  start <- ref_perturb(dat$setting$truth, 0.05)
  prob <- contamoe:::cm_problem(dat$y, dat$x, dat$x, dat$lf0, 1L, "tanh")
  theta0 <- contamoe:::to_internal(prob, start)
  run <- function(label, f) {
    gc(FALSE)
    t <- system.time(r <- f())[["elapsed"]]
    rows[[length(rows) + 1L]] <<- data.frame(
      n = n, method = label, seconds = t, iter = r$iter, loglik = r$loglik,
      status = status_msg[r$status + 1L])
    r
  }
  fd <- run(sprintf("cmoe()/%s", default_method), function() {
    f <- suppressWarnings(cmoe(y ~ . - 1, data = dat$data, pretrained = dat$setting$pretrained,
                               start = start))
    list(iter = f$iterations, loglik = f$loglik, status = match(f$status, c(
      "converged", "iteration limit reached", "log-likelihood not finite",
      "Newton system singular", "gate ran off")) - 1L)
  })
  for (m in c("direct", "em")) {
    run(sprintf("cmoe_fit/%s (default control)", m),
        function() contamoe:::cmoe_fit(prob, m, theta0, 1L, cmoe_control()))
  }
  long <- run("cmoe_fit/em long (tol 1e-14, maxit 50000)", function() {
    contamoe:::cmoe_fit(prob, "em", theta0, 1L, cmoe_control(tol = 1e-14, maxit = 50000))
  })
  cat(sprintf("n = %g: default minus long EM log-likelihood %.3g (relative %.2g)\n", n,
              fd$loglik - long$loglik, (fd$loglik - long$loglik) / abs(long$loglik)))
}
cat("\n")
print(format(do.call(rbind, rows), digits = 10), row.names = FALSE)
