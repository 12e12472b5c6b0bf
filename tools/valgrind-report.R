# Reads a valgrind log written by tools/valgrind.sh and decides whether it
# shows a memory error in contamoe's own code.
#
#   Rscript tools/valgrind-report.R valgrind.log
#
# R itself makes valgrind report "possibly lost" and "still reachable" blocks
# (and sometimes other records) by design, so the exit status is 1 only for
# records with a frame in contamoe's code (contamoe.so, or a source path
# .../contamoe/src/...) that are
#   - an error: invalid read/write/free, use of uninitialised values,
#     overlapping memcpy, fishy malloc arguments, ...
#   - a leak whose blocks are "definitely lost".
# Other leak kinds with contamoe frames, and R being killed (SIGTERM, SIGINT,
# SIGHUP, SIGKILL) while in contamoe's code, are listed but do not fail. Each
# error record is shown with the last test that started before it.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: valgrind-report.R <valgrind log>")
lines <- readLines(args[[1]], warn = FALSE)

vg_re <- "^==[0-9]+== ?"
pkg_frame_re <- "(at|by) 0x[0-9A-Fa-f]+: .*(contamoe\\.so|/contamoe/src/|R_init_contamoe)"
leak_re <- "are (definitely|indirectly|possibly) lost|still reachable"

records <- list()
cur <- character()
cur_test <- "(before the first test)"
rec_test <- NA_character_
flush <- function() {
  if (length(cur)) records[[length(records) + 1]] <<- list(lines = cur, test = rec_test)
  cur <<- character()
}
for (ln in lines) {
  if (grepl("#### test: ", ln, fixed = TRUE)) {
    cur_test <- sub(".*#### test: ", "", ln)
    next
  }
  if (!grepl(vg_re, ln)) next
  body <- sub(vg_re, "", ln)
  if (!nzchar(trimws(body))) {
    flush()
    next
  }
  if (!length(cur)) rec_test <- cur_test
  cur <- c(cur, body)
}
flush()

is_stack <- vapply(records, function(r) any(grepl("^ *(at|by) 0x", r$lines)), logical(1))
records <- records[is_stack]
header <- vapply(records, function(r) r$lines[[1]], character(1))
in_pkg <- vapply(records, function(r) any(grepl(pkg_frame_re, r$lines)), logical(1))
is_leak <- grepl(leak_re, header)
definite <- grepl("definitely lost", header)
# R stopped from outside (kill, Ctrl-C) while in contamoe's code: not an error
killed <- grepl("default action of signal (1|2|9|15) ", header)
bad <- in_pkg & (!is_leak | definite) & !killed

err_summary <- grep("ERROR SUMMARY:", lines, value = TRUE)
leak_summary <- grep("(definitely|indirectly|possibly) lost:|still reachable:", lines,
                     value = TRUE)

cat("---- valgrind summary ----\n")
cat(sub(vg_re, "", tail(err_summary, 1)), "\n", sep = "")
cat(sub(vg_re, "", leak_summary), sep = "\n")
cat(sprintf("records with stacks: %d (errors %d, leaks %d)\n", length(records),
            sum(!is_leak), sum(is_leak)))
cat(sprintf("records with contamoe frames: %d (errors %d, definite leaks %d, other leaks %d)\n",
            sum(in_pkg), sum(in_pkg & !is_leak), sum(in_pkg & definite),
            sum(in_pkg & is_leak & !definite)))
kinds <- table(sub(" of size [0-9]+| in loss record.*|^[0-9,]+ \\(.*\\) bytes in [0-9,]+ blocks |^[0-9,]+ bytes in [0-9,]+ blocks ",
                   "", header[!is_leak]))
if (length(kinds)) {
  cat("error kinds (anywhere, including R itself):\n")
  cat(sprintf("  %4d  %s", as.integer(kinds), names(kinds)), sep = "\n")
}
# A stack as printed here: runs of more than two frames inside libR.so are
# shortened to one line (the log has them all).
compact <- function(x) {
  r_frame <- grepl("^ *by 0x[0-9A-Fa-f]+: .*\\(in .*/libR\\.so\\)$", x)
  run <- rle(r_frame)
  ends <- cumsum(run$lengths)
  starts <- ends - run$lengths + 1
  out <- character()
  for (j in seq_along(run$lengths)) {
    seg <- x[starts[j]:ends[j]]
    if (run$values[j] && length(seg) > 2)
      seg <- c(seg[1:2], sprintf("   ... %d more frames in libR.so", length(seg) - 2))
    out <- c(out, seg)
  }
  out
}
show <- which(in_pkg)
for (i in show) {
  cat(sprintf("\n---- %s record (%s) ----\n",
              if (bad[i]) "FAILING" else "informational",
              if (is_leak[i]) "a leak: reported at exit, not by a test"
              else paste("test:", records[[i]]$test)))
  cat(compact(records[[i]]$lines), sep = "\n")
}
if (any(bad)) {
  cat(sprintf("\nvalgrind: %d error record(s) in contamoe code\n", sum(bad)))
  quit(status = 1)
}
cat("\nvalgrind: no error in contamoe code\n")
