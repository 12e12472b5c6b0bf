# The full-scale reproduction of the experiments of Yan et al. (2025): the
# four settings of paper_setting() at 20 sample sizes from 1e3 to 1e5 with 40
# replications each (3200 fits), the exact MLE by Newton's method started at
# the truth. Run from the package's source directory to refresh the data set
# `paper_study`:
#
#   Rscript inst/scripts/paper-study.R [workers]
#
# On a cluster, replace the plan by a future backend, e.g.
#   future::plan(future.batchtools::batchtools_slurm)
library(contamoe)

args <- commandArgs(trailingOnly = TRUE)
workers <- if (length(args)) as.integer(args[1]) else 2L
future::plan(future::multisession, workers = workers)
options(progressr.enable = TRUE)
progressr::handlers(global = TRUE)
progressr::handlers("txtprogressbar")

n <- round(10^seq(3, 5, length.out = 20))
settings <- c("distinguishable", "nondist_i", "nondist_ii", "nondist_ii_printed")
t0 <- proc.time()[["elapsed"]]
paper_study <- rate_study(settings, n = n, reps = 40, seed = 20251204)
wall <- proc.time()[["elapsed"]] - t0
attr(paper_study, "wall_seconds") <- wall
attr(paper_study, "workers") <- workers
message(sprintf("%d fits in %.0f s of wall time on %d workers", nrow(paper_study), wall, workers))
print(rate_slopes(paper_study))
dir.create("data", showWarnings = FALSE)
save(paper_study, file = file.path("data", "paper_study.rda"), compress = "xz")
