# Settings of contamoe's own where the slow rates of the non-distinguishable
# case can show: case (i) of Yan et al. (2025), eta* = e1 (1 + c n^(-1/8)),
# with smaller perturbation constants c = 0.3 and c = 0.1 than the paper's
# c = 1 (next to the noise scale sqrt(nu0) = 0.032, the paper's perturbation
# of 0.24 to 0.42 keeps the prompt well separated from the pre-trained
# expert), at 9 sample sizes from 1e4 to 1e6 with 20 replications each.
# Run from the package's source directory to refresh the data set
# `slow_rates_study`:
#
#   Rscript inst/scripts/slow-rates-study.R [workers]
library(contamoe)

args <- commandArgs(trailingOnly = TRUE)
workers <- if (length(args)) as.integer(args[1]) else 2L
future::plan(future::multisession, workers = workers)
options(progressr.enable = TRUE)
progressr::handlers(global = TRUE)
progressr::handlers("txtprogressbar")

n <- round(10^seq(4, 6, length.out = 9))
t0 <- proc.time()[["elapsed"]]
studies <- lapply(c(0.3, 0.1), function(c) {
  st <- rate_study(function(n) {
    s <- paper_setting("nondist_i", n, perturbation = c)
    s$name <- sprintf("nondist_i_c%s", format(c))
    s
  }, n = n, reps = 20, seed = 20251205)
  st
})
slow_rates_study <- do.call(rbind, studies)
attributes(slow_rates_study) <- c(attributes(slow_rates_study)[c("names", "row.names", "class")],
  list(settings = do.call(c, lapply(studies, attr, "settings")), method = "direct",
       start = "truth", wall_seconds = proc.time()[["elapsed"]] - t0, workers = workers))
message(sprintf("%d fits in %.0f s of wall time on %d workers", nrow(slow_rates_study),
                attr(slow_rates_study, "wall_seconds"), workers))
print(rate_slopes(slow_rates_study, degenerate = "exclude"))
save(slow_rates_study, file = file.path("data", "slow_rates_study.rda"), compress = "xz")
