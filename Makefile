# contamoe: `make demo` and `make check` set up what is missing and run.
R       ?= R
RSCRIPT ?= Rscript
PKG     := contamoe
VERSION := $(shell sed -n 's/^Version: //p' DESCRIPTION)
TARBALL := $(PKG)_$(VERSION).tar.gz
CHECKENV := _R_CHECK_SYSTEM_CLOCK_=false _R_CHECK_CRAN_INCOMING_REMOTE_=false NOT_CRAN=true

.PHONY: deps install demo check document clean

deps:
	$(RSCRIPT) tools/deps.R

install: deps
	$(R) CMD INSTALL --preclean --no-multiarch .

demo: install
	$(RSCRIPT) inst/scripts/demo.R

document:
	$(RSCRIPT) tools/deps.R roxygen2
	$(RSCRIPT) -e 'roxygen2::roxygenise()'

check: deps
	rm -rf $(PKG).Rcheck $(TARBALL)
	$(R) CMD build .
	$(CHECKENV) $(R) CMD check --as-cran --no-manual $(TARBALL); status=$$?; \
	  tail -n 4 $(PKG).Rcheck/tests/testthat.Rout 2>/dev/null; \
	  $(RSCRIPT) tools/check-status.R $(PKG).Rcheck || status=1; \
	  exit $$status

clean:
	rm -rf $(PKG).Rcheck $(TARBALL) src/*.o src/*.so demo-output

# Memory checks of the C code: each builds the package into a tarball and
# installs it into a private temporary library (nothing is compiled in src/),
# then runs the testthat suite: under valgrind (log in valgrind.log; takes
# ~30-60x the native run time), or with the C code built with ASan and UBSan
# (log in sanitize.log). TEST_FILTER=regex limits the test files run.
.PHONY: valgrind sanitize

valgrind: deps
	R="$(R)" RSCRIPT="$(RSCRIPT)" bash tools/valgrind.sh

sanitize: deps
	R="$(R)" RSCRIPT="$(RSCRIPT)" bash tools/sanitize.sh
