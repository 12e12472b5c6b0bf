# Large-n fits: time and peak memory at n = 1e6 and 1e7.
#
#   Rscript bench/bench-scale.R                 (from the package root)
#   BENCH_SCALE_N=1e6 Rscript bench/bench-scale.R   (only n = 1e6)
#
# The paper's distinguishable setting (d = 8, Laplace pre-trained expert),
# started from the truth perturbed by N(0, 0.05^2) (log nu likewise). One run
# per fit (at this size timing noise is small next to the fit):
#   cm_problem          building the matrix problem (shares x: no copy)
#   cmoe_fit/<method>   the matrix workhorse on the prebuilt problem, both
#                       methods
#   cmoe()/<default>    the formula interface, from a data frame
# Memory: `gc(reset = TRUE)` before, "max used" of `gc()` after (R's heap:
# vectors allocated by R and by the C code through R), minus what was in use
# before; and the peak resident set size of the process over the same span
# (VmHWM of /proc/self/status, reset through /proc/self/clear_refs), which
# also sees C-level malloc. Both are compared with the size of the data,
# object.size(x) + object.size(y). n = 1e7 needs several GB (x alone is
# 640 MB, its data frame as much again); it is skipped, with a message, when
# MemAvailable is short.

args_file <- function() {
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1L]))) else "bench"
}
source(file.path(args_file(), "reference.R"))   # ref_lf0(), ref_perturb()
suppressPackageStartupMessages(library(contamoe))
options(width = 200)

ns <- as.numeric(strsplit(Sys.getenv("BENCH_SCALE_N", "1e6,1e7"), ",")[[1L]])
default_method <- eval(formals(contamoe::cmoe)$method)[1L]
other_method <- setdiff(c("em", "direct"), default_method)
cat(sprintf("contamoe %s; R %s; cmoe() default method \"%s\"\n",
            format(utils::packageVersion("contamoe")), getRversion(), default_method))

proc_kb <- function(field, file = "/proc/self/status") {
  l <- grep(paste0("^", field, ":"), tryCatch(readLines(file), error = function(e) ""),
            value = TRUE)
  if (!length(l)) return(NA_real_)
  as.numeric(gsub("[^0-9]", "", l)) / 1024   # MB
}
can_reset_hwm <- tryCatch({ cat("5", file = "/proc/self/clear_refs"); TRUE },
                          error = function(e) FALSE, warning = function(w) FALSE)
cat(sprintf("MemAvailable %.0f MB; peak RSS %s\n\n", proc_kb("MemAvailable", "/proc/meminfo"),
            if (can_reset_hwm) "measured (VmHWM reset per fit)" else "not measured (cannot reset VmHWM)"))

heap_mb <- function(g) sum(g[, 2L])          # "used" (Mb), Ncells + Vcells
heap_max_mb <- function(g) sum(g[, 6L])      # "max used" (Mb)

# time and memory of one evaluation of expr
measure <- function(expr) {
  expr <- substitute(expr)
  env <- parent.frame()
  g0 <- gc(reset = TRUE)
  if (can_reset_hwm) cat("5", file = "/proc/self/clear_refs")
  rss0 <- proc_kb("VmRSS")
  t0 <- proc.time()[["elapsed"]]
  value <- eval(expr, env)
  secs <- proc.time()[["elapsed"]] - t0
  hwm <- proc_kb("VmHWM")
  g1 <- gc()
  list(value = value, secs = secs, heap_peak = heap_max_mb(g1) - heap_mb(g0),
       heap_kept = heap_mb(g1) - heap_mb(g0),
       rss_peak = if (can_reset_hwm) hwm - rss0 else NA_real_)
}

rows <- list()
for (n in ns) {
  data_mb_est <- n * 9 * 8 / 2^20
  avail <- proc_kb("MemAvailable", "/proc/meminfo")
  if (is.finite(avail) && avail < 16 * data_mb_est) {
    message(sprintf("skipping n = %g: MemAvailable %.0f MB < %.0f MB (16 x the %.0f MB of data)",
                    n, avail, 16 * data_mb_est, data_mb_est))
    next
  }
  set.seed(1L)
  st <- paper_setting("distinguishable", n)
  t_sim <- system.time({
    x <- st$draw_x(n)
    dat <- do.call(rcmoe, c(list(x = x), st$truth, list(pretrained = st$pretrained)))
    y <- dat$y
    lf0 <- ref_lf0(y, tanh(drop(x %*% st$pretrained$eta)), st$pretrained$nu, "laplace")
  })[["elapsed"]]
  start <- ref_perturb(st$truth, 0.05)
  data_mb <- (as.numeric(object.size(x)) + as.numeric(object.size(y))) / 2^20
  cat(sprintf("n = %g: data %.0f MB (x %.0f MB + y %.0f MB; the data frame is another %.0f MB); simulated in %.1f s\n",
              n, data_mb, object.size(x) / 2^20, object.size(y) / 2^20,
              object.size(dat) / 2^20, t_sim))

  add <- function(what, m, iter = NA_integer_, loglik = NA_real_) {
    rows[[length(rows) + 1L]] <<- data.frame(
      n = n, what = what, secs = m$secs, iter = iter,
      ns_per_obs_iter = if (is.na(iter)) NA_real_ else 1e9 * m$secs / n / max(iter, 1L),
      heap_peak_MB = m$heap_peak, heap_peak_x_data = m$heap_peak / data_mb,
      rss_peak_MB = m$rss_peak, rss_peak_x_data = m$rss_peak / data_mb,
      kept_MB = m$heap_kept, loglik = sprintf("%.4f", loglik))
  }

  mp <- measure(contamoe:::cm_problem(y, x, x, lf0, 1L, "tanh"))
  prob <- mp$value
  mp$value <- NULL
  add("cm_problem (shares x)", mp)
  theta0 <- contamoe:::to_internal(prob, start)
  for (method in c(default_method, other_method)) {
    m <- measure(contamoe:::cmoe_fit(prob, method, theta0, 1L, cmoe_control()))
    add(paste0("cmoe_fit/", method, " (problem prebuilt)"), m, m$value$iter, m$value$loglik)
    if (m$value$status != 0L) cat("  note: cmoe_fit/", method, " status ", m$value$status, "\n", sep = "")
    rm(m)
  }
  rm(prob)
  mc <- measure(suppressWarnings(cmoe(y ~ . - 1, data = dat, pretrained = st$pretrained,
                                      start = start)))
  add(paste0("cmoe()/", default_method, " (from the data frame)"), mc,
      mc$value$iterations, mc$value$loglik)
  cat(sprintf("  the cmoe() fit object keeps %.0f MB\n", object.size(mc$value) / 2^20))
  rm(mc, x, y, dat, lf0)
  invisible(gc())
}

tab <- do.call(rbind, rows)
cat("\n== Time and peak memory (peak above what was in use before the call) ==\n")
cat("heap = R's heap from gc() \"max used\"; rss = peak resident set size (includes C malloc);\n",
    "*_x_data = peak / (object.size(x) + object.size(y)); kept = heap still held after the call (its result)\n\n",
    sep = "")
print(format(tab, digits = 3), row.names = FALSE)

if (length(unique(tab$n)) > 1L) {
  cat("\n== Linearity: ratio of the largest n to the smallest ==\n")
  lo <- tab[tab$n == min(tab$n), ]
  hi <- tab[tab$n == max(tab$n), ]
  lin <- data.frame(what = lo$what, n_ratio = max(tab$n) / min(tab$n),
                    time_ratio = hi$secs / lo$secs,
                    ns_obs_iter_ratio = hi$ns_per_obs_iter / lo$ns_per_obs_iter,
                    heap_peak_ratio = hi$heap_peak_MB / lo$heap_peak_MB)
  print(format(lin, digits = 3), row.names = FALSE)
}

cat("\n== Target: memory linear in n and < 3x the data ==\n")
for (i in seq_len(nrow(tab))) {
  cat(sprintf("  n = %-6g %-42s heap peak %5.2fx data  %s\n", tab$n[i], tab$what[i],
              tab$heap_peak_x_data[i], if (tab$heap_peak_x_data[i] < 3) "OK" else "MISSED"))
}
