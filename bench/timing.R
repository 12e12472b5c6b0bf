# Timing helpers shared by bench-fit.R and bench-flexmix.R (source()d).

# Wall-clock seconds of evaluating expr, after a garbage collection.
elapsed <- function(expr) {
  gc(FALSE)
  t0 <- proc.time()[["elapsed"]]
  force(expr)
  proc.time()[["elapsed"]] - t0
}

# Times each function of `fns` `reps` times, the functions interleaved within
# each repetition so that machine noise falls on all alike. Returns the
# reps x length(fns) matrix of seconds, the median of each column and the
# value of each function's last call.
time_interleaved <- function(fns, reps) {
  times <- matrix(NA_real_, reps, length(fns))
  info <- vector("list", length(fns))
  for (r in seq_len(reps)) {
    for (m in seq_along(fns)) {
      res <- NULL
      times[r, m] <- elapsed(res <- fns[[m]]())
      info[[m]] <- res
    }
  }
  list(times = times, median = apply(times, 2L, stats::median), info = info)
}
