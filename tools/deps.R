# Installs what building, checking and demonstrating contamoe needs and is
# missing on this machine: the R packages from CRAN, pandoc and qpdf through
# apt-get.
# extra packages (e.g. roxygen2 for `make document`) come as arguments
pkgs <- c("Formula", "future", "future.apply", "progressr", "testthat", "knitr",
          "rmarkdown", commandArgs(trailingOnly = TRUE))
missing <- setdiff(pkgs, rownames(utils::installed.packages()))
if (length(missing)) {
  message("Installing from CRAN: ", paste(missing, collapse = ", "))
  utils::install.packages(missing, repos = "https://cloud.r-project.org",
                          Ncpus = max(1L, parallel::detectCores()))
}
still <- setdiff(pkgs, rownames(utils::installed.packages()))
if (length(still)) stop("could not install: ", paste(still, collapse = ", "))
# pandoc renders the vignettes; qpdf is what R CMD check --as-cran uses to
# check PDF sizes
tools_missing <- c("pandoc", "qpdf")[!nzchar(Sys.which(c("pandoc", "qpdf")))]
if (length(tools_missing)) {
  message("Installing with apt-get: ", paste(tools_missing, collapse = ", "))
  sudo <- if (Sys.info()[["user"]] == "root") "" else "sudo "
  system(paste0(sudo, "apt-get update -qq && ", sudo,
                "env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ",
                paste(tools_missing, collapse = " ")))
  if (!all(nzchar(Sys.which(tools_missing)))) {
    stop("could not install: ", paste(tools_missing, collapse = ", "))
  }
}
