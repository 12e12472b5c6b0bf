#!/usr/bin/env bash
# `make valgrind`: the testthat suite under valgrind's memcheck.
#
# The package is built into a tarball and installed into a private temporary
# library (never compiled in the work tree's src/), then the whole suite runs
# in one R process under
#   valgrind --error-exitcode=1 --leak-check=full --track-origins=yes
# with the full log (valgrind's records interleaved with the test output and a
# "#### test:" line before each test) in valgrind.log, or $VALGRIND_LOG.
# tools/valgrind-report.R then decides: the target fails only on errors or
# definite leaks with a frame in contamoe's code, or when R did not finish the
# suite. valgrind's own exit status is printed but not used, since R's own
# leaks make it non-zero anyway. Failing tests are listed but fail the target
# only with FAIL_ON_TESTS=1: under valgrind, long double arithmetic is done in
# double precision, so a test that compares a run in this process with one in
# native future workers bit for bit can fail without any memory error.
#
# Limits: R allocates vectors of at most 128 bytes from its own pages, not
# with malloc, so valgrind sees no overrun of such a small vector. Workers of
# future::multisession (test-rates.R) are separate processes, not traced.
#
# Environment: R (default R), VALGRIND_LOG, VALGRIND_EXTRA (more valgrind
# options), TEST_FILTER (a testthat filter, e.g. "loss|likelihood"),
# FAIL_ON_TESTS=1, KEEP_TMP=1 to keep the build directory.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/memcheck-lib.sh"
LOG=${VALGRIND_LOG:-$ROOT/valgrind.log}

command -v valgrind > /dev/null || apt_install valgrind
command -v valgrind > /dev/null || { echo "!! valgrind is missing"; exit 1; }
echo ">> $(valgrind --version)"

start=$(now)
make_workdir valgrind
build_and_install || exit 1

VG="valgrind --error-exitcode=1 --leak-check=full --track-origins=yes --num-callers=40 --fullpath-after= ${VALGRIND_EXTRA:-}"
echo ">> R_LIBS=$LIB NOT_CRAN=true $R -d \"$VG\" --vanilla --no-echo -f tools/run-tests.R --args $TESTS <result>"
echo ">> full log: $LOG (this takes a while: ~30-60x the native run time)"
t0=$(now)
R_LIBS="$LIB" NOT_CRAN=true TEST_FILTER="${TEST_FILTER:-}" \
  "$R" -d "$VG" --vanilla --no-echo -f "$ROOT/tools/run-tests.R" \
  --args "$TESTS" "$WORK/result" > "$LOG" 2>&1
vg_status=$?
echo ">> suite under valgrind: $(took "$t0") (valgrind exit status $vg_status)"

status=0
if [ -s "$WORK/result" ]; then
  echo "---- tests (seconds per file, under valgrind) ----"
  cat "$WORK/result"
  if ! grep -q 'failed=0 errors=0' "$WORK/result"; then
    # not a memory error by itself (see the log); fatal only with FAIL_ON_TESTS=1
    echo "!! some tests failed or errored under valgrind (see $LOG)"
    [ "${FAIL_ON_TESTS:-0}" = 1 ] && status=1
  fi
else
  echo "!! R did not finish the test suite (crash?); the end of $LOG:"
  grep -v '^==[0-9]*==' "$LOG" | tail -n 30
  status=1
fi
"$RSCRIPT" "$ROOT/tools/valgrind-report.R" "$LOG" || status=1
echo ">> make valgrind: $(took "$start") in all; log in $LOG"
exit $status
