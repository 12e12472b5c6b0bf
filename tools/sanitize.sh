#!/usr/bin/env bash
# `make sanitize`: the testthat suite against contamoe's C code built with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The package is built into a tarball and installed into a private temporary
# library with R_MAKEVARS_USER=tools/sanitize-Makevars (never compiled in the
# work tree's src/), then the suite runs with gcc's libasan preloaded into R
# (R itself is not instrumented), ASAN_OPTIONS=detect_leaks=0 (R leaks by
# design) and UBSAN_OPTIONS=print_stacktrace=1. Output goes to sanitize.log
# (or $SANITIZE_LOG); ASan's reports go to files (so that those of
# future::multisession workers, whose stderr is discarded, are caught too),
# appended to that log. UBSan's runtime in libasan ignores log_path and always
# writes to stderr, so a UBSan error in such a worker shows only as the worker
# dying and its test failing. Any AddressSanitizer error or runtime error
# report fails the target (each aborts R, so nothing after it was checked;
# the summary says whether it has frames in contamoe's code), as does a suite
# that did not finish. Failing tests are listed but fail the target only with
# FAIL_ON_TESTS=1.
#
# Limits: R allocates vectors of at most 128 bytes from its own pages, not
# with malloc, so an overrun of such a small vector is not seen.
#
# Environment: R (default R), SANITIZE_LOG, TEST_FILTER (a testthat filter),
# FAIL_ON_TESTS=1, KEEP_TMP=1 to keep the build directory.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/memcheck-lib.sh"
LOG=${SANITIZE_LOG:-$ROOT/sanitize.log}
CC_FOR_R=$("$R" CMD config CC | awk '{print $1}')

# gcc's runtimes: libasan.so (with the UBSan runtime) comes with libgcc-N-dev.
asan_lib() { "$CC_FOR_R" -print-file-name=libasan.so; }
if [ ! -e "$(asan_lib)" ] || [ ! -e "$("$CC_FOR_R" -print-file-name=libubsan.so)" ]; then
  apt_install "libgcc-$("$CC_FOR_R" -dumpversion | cut -d. -f1)-dev"
fi
ASAN_LIB=$(readlink -f "$(asan_lib)")
[ -e "$ASAN_LIB" ] || { echo "!! libasan.so not found for $CC_FOR_R"; exit 1; }
echo ">> $("$CC_FOR_R" --version | head -n 1); LD_PRELOAD=$ASAN_LIB"

start=$(now)
make_workdir sanitize
export R_MAKEVARS_USER="$ROOT/tools/sanitize-Makevars"
echo ">> R_MAKEVARS_USER=$R_MAKEVARS_USER"
# --no-test-load: the instrumented library loads only into an R with libasan
# preloaded, which the test run below is.
build_and_install --no-test-load || exit 1
unset R_MAKEVARS_USER

SO="$LIB/contamoe/libs/contamoe.so"
nasan=$(nm -D "$SO" | grep -c '__asan_report' || true)
nubsan=$(nm -D "$SO" | grep -c '__ubsan_handle' || true)
echo ">> $SO: $nasan __asan_report and $nubsan __ubsan_handle symbols"
if [ "$nasan" = 0 ] || [ "$nubsan" = 0 ]; then
  echo "!! contamoe.so is not instrumented"
  exit 1
fi

mkdir -p "$WORK/san"
export ASAN_OPTIONS="detect_leaks=0:log_path=$WORK/san/asan"
export UBSAN_OPTIONS="print_stacktrace=1"
echo ">> ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
echo ">> LD_PRELOAD=$ASAN_LIB R_LIBS=$LIB NOT_CRAN=true $R --vanilla --no-echo -f tools/run-tests.R --args $TESTS <result>"
t0=$(now)
LD_PRELOAD="$ASAN_LIB" R_LIBS="$LIB" NOT_CRAN=true TEST_FILTER="${TEST_FILTER:-}" \
  "$R" --vanilla --no-echo -f "$ROOT/tools/run-tests.R" \
  --args "$TESTS" "$WORK/result" > "$LOG" 2>&1
r_status=$?
echo ">> suite with sanitizers: $(took "$t0") (R exit status $r_status)"

status=0
if [ -s "$WORK/result" ]; then
  echo "---- tests (seconds per file, with sanitizers) ----"
  cat "$WORK/result"
  if ! grep -q 'failed=0 errors=0' "$WORK/result"; then
    # not a memory error by itself (see the log); fatal only with FAIL_ON_TESTS=1
    echo "!! some tests failed or errored under sanitizers (see $LOG)"
    [ "${FAIL_ON_TESTS:-0}" = 1 ] && status=1
  fi
else
  echo "!! R did not finish the test suite; the end of $LOG (without stack frames):"
  grep -Ev '^ *#[0-9]+ ' "$LOG" | tail -n 20
  status=1
fi

echo "---- sanitizer reports ----"
# UBSan writes to stderr, i.e. the log; ASan to its report files
for f in "$WORK"/san/*; do
  [ -e "$f" ] || continue
  { echo; echo "==== sanitizer report file $(basename "$f") ===="; cat "$f"; } >> "$LOG"
done
found=$(awk -f "$ROOT/tools/sanitizer-reports.awk" "$LOG")
if [ -n "$found" ]; then
  n=$(printf '%s\n' "$found" | grep -Ec 'runtime error:|ERROR: AddressSanitizer')
  echo "!! $n report(s); in full at the end of $LOG"
  grep '#### test:' "$LOG" | tail -n 1 | sed 's/^#### test: /last test started: /'
  printf '%s\n' "$found"
  if printf '%s\n' "$found" | grep -Eq 'contamoe\.so|/contamoe/src/'; then
    echo "(with frames in contamoe's code)"
  fi
  status=1
else
  echo "no AddressSanitizer or UndefinedBehaviorSanitizer report"
fi
echo ">> make sanitize: $(took "$start") in all; log in $LOG"
exit $status
