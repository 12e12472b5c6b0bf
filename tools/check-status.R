# Reads an R CMD check directory: prints the test tally as "N passed, N failed"
# and fails when the check log has an ERROR or a WARNING.
dir <- commandArgs(trailingOnly = TRUE)[1]
log <- readLines(file.path(dir, "00check.log"))
rout <- file.path(dir, "tests", "testthat.Rout")
if (!file.exists(rout)) rout <- paste0(rout, ".fail")
if (file.exists(rout)) {
  tally <- grep("\\[ FAIL [0-9]+ \\| WARN [0-9]+ \\| SKIP [0-9]+ \\| PASS [0-9]+ \\]",
                readLines(rout), value = TRUE)
  if (length(tally)) {
    num <- function(what) as.integer(sub(paste0(".*", what, " ([0-9]+).*"), "\\1", tail(tally, 1)))
    cat(sprintf("%d passed, %d failed\n", num("PASS"), num("FAIL")))
  }
}
bad <- grep("^\\* .*\\.\\.\\. *(ERROR|WARNING)|^Status: .*(ERROR|WARNING)", log, value = TRUE)
notes <- grep("\\.\\.\\. *NOTE", log, value = TRUE)
if (length(notes)) cat("NOTEs:\n", paste0("  ", notes, "\n"), sep = "")
if (length(bad)) {
  cat("R CMD check found problems:\n", paste0("  ", bad, "\n"), sep = "")
  quit(status = 1)
}
cat("R CMD check: no ERROR or WARNING\n")
