# Prints the AddressSanitizer and UndefinedBehaviorSanitizer reports found in
# a log (tools/sanitize.sh), each stack cut to its first 12 frames (the rest
# are R's evaluator), without ASan's shadow-byte legend. Prints nothing when
# there is no report.
function start(k) { inb = 1; kind = k; nf = 0; seen = 0; print "" }
{
  if ($0 ~ /ERROR: AddressSanitizer/) start("asan")
  else if ($0 ~ /runtime error:/) start("ubsan")
  else if (!inb) next
  frame = ($0 ~ /^ *#[0-9]+ /)
  if (kind == "ubsan" && seen && !frame) { inb = 0; next }
  if (frame) {
    seen = 1
    if (++nf == 13) print "    ... (more frames in the log)"
    if (nf > 12) next
  } else nf = 0
  print
  if ($0 ~ /^SUMMARY: /) inb = 0
}
