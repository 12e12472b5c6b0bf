# Runs the testthat suite against the *installed* contamoe (first on
# .libPaths(), i.e. the private library in R_LIBS) for tools/valgrind.sh and
# tools/sanitize.sh.
#
#   R --vanilla -f tools/run-tests.R --args <tests/testthat dir> <result file>
#
# All output goes to stderr (unbuffered), so that it interleaves correctly with
# valgrind's and the sanitizers' reports; a line "#### test: <file> :: <test>"
# before each test tells which test a report came from. The result file gets
# one line "passed=N failed=N errors=N skipped=N warnings=N", the time spent
# in each test file, the slowest tests and the failing ones. A run that
# crashes leaves no result file.
# TEST_FILTER, when set, is passed to test_dir() as its filter.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: run-tests.R <tests dir> <result file>")
tdir <- args[[1]]
out <- args[[2]]
unlink(out)

lib <- find.package("contamoe")
message("#### contamoe from: ", lib)

# plain, line by line progress output, even where cli thinks it has a terminal
options(cli.dynamic = FALSE, cli.unicode = FALSE, cli.num_colors = 1L)
Marker <- R6::R6Class("Marker", inherit = testthat::Reporter, public = list(
  file = "",
  start_file = function(filename) {
    self$file <- basename(filename)
    message("\n#### file: ", self$file)
  },
  start_test = function(context, test) message("\n#### test: ", self$file, " :: ", test)
))
reporter <- testthat::MultiReporter$new(list(
  testthat::ProgressReporter$new(file = stderr(), show_praise = FALSE),
  Marker$new()
))

t0 <- proc.time()[["elapsed"]]
filter <- Sys.getenv("TEST_FILTER")
res <- testthat::test_dir(tdir, filter = if (nzchar(filter)) filter, package = "contamoe",
                          load_package = "installed", reporter = reporter,
                          stop_on_failure = FALSE)
elapsed <- proc.time()[["elapsed"]] - t0

df <- as.data.frame(res)
# A failing or erroring test has failed > 0 or error == TRUE; passed counts
# expectations.
counts <- c(passed = sum(df$passed), failed = sum(df$failed > 0), errors = sum(df$error),
            skipped = sum(df$skipped), warnings = sum(df$warning))
per_file <- tapply(df$real, df$file, sum)
per_file <- sort(per_file, decreasing = TRUE)
bad <- df[df$failed > 0 | df$error, , drop = FALSE]
slow <- head(df[order(-df$real), , drop = FALSE], 5)
lines <- c(paste(names(counts), counts, sep = "=", collapse = " "),
           sprintf("total_seconds=%.1f", elapsed),
           sprintf("%8.1f s  %s", per_file, names(per_file)),
           "slowest tests:",
           sprintf("%8.1f s  %s :: %s", slow$real, slow$file, slow$test),
           if (nrow(bad)) c("failing tests:", sprintf("  %s :: %s", bad$file, bad$test)))
writeLines(lines, out)
invisible(NULL)
