# Shared by tools/valgrind.sh and tools/sanitize.sh (sourced, not run).
#
# Builds a source tarball of the work tree into a private temporary directory
# and installs it into a private library there, so that nothing is compiled
# inside the work tree's src/ (others build there).

R=${R:-R}
RSCRIPT=${RSCRIPT:-Rscript}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The time since the epoch, in seconds, and a duration for humans.
now() { date +%s; }
took() { local s=$(($(now) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# Installs Debian packages that are missing (as root, or through sudo).
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo ">> apt-get install $*"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# make_workdir NAME: a fresh temporary directory in $WORK, removed on exit
# unless KEEP_TMP=1.
make_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/contamoe-$1.XXXXXX")
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo ">> keeping $WORK"
  else
    trap 'rm -rf "$WORK"' EXIT
  fi
}

# build_and_install [R CMD INSTALL options...]: a tarball of $ROOT is built in
# $WORK, unpacked there (its tests/testthat is what is run, so the tests match
# the code installed even while the work tree changes) and installed into
# $WORK/lib. Sets TESTS to the unpacked tests/testthat and LIB to the library.
build_and_install() {
  local t0
  t0=$(now)
  mkdir -p "$WORK/build" "$WORK/lib"
  echo ">> R CMD build --no-build-vignettes $ROOT (in $WORK/build)"
  (cd "$WORK/build" && "$R" CMD build --no-build-vignettes "$ROOT") > "$WORK/build.log" 2>&1 || {
    cat "$WORK/build.log"
    echo "!! R CMD build failed"
    return 1
  }
  local tarball
  tarball=$(ls "$WORK"/build/contamoe_*.tar.gz)
  tar -xzf "$tarball" -C "$WORK/build"
  TESTS="$WORK/build/contamoe/tests/testthat"
  LIB="$WORK/lib"
  echo ">> R CMD INSTALL --library=$LIB $* $(basename "$tarball")"
  "$R" CMD INSTALL --library="$LIB" "$@" "$tarball" > "$WORK/install.log" 2>&1 || {
    cat "$WORK/install.log"
    echo "!! R CMD INSTALL failed"
    return 1
  }
  grep -E '^(gcc|cc) ' "$WORK/install.log" | tail -n 2 | cut -c 1-400
  echo ">> built and installed in $(took "$t0")"
}
