# Installs what building, checking and demonstrating contamoe needs and is
# missing on this machine: the R packages from CRAN and, for the vignettes,
# pandoc through apt-get.
pkgs <- c("Formula", "future", "future.apply", "progressr", "testthat", "knitr",
          "rmarkdown", "roxygen2")
missing <- setdiff(pkgs, rownames(utils::installed.packages()))
if (length(missing)) {
  message("Installing from CRAN: ", paste(missing, collapse = ", "))
  utils::install.packages(missing, repos = "https://cloud.r-project.org",
                          Ncpus = max(1L, parallel::detectCores()))
}
still <- setdiff(pkgs, rownames(utils::installed.packages()))
if (length(still)) stop("could not install: ", paste(still, collapse = ", "))
if (!nzchar(Sys.which("pandoc"))) {
  message("Installing pandoc (for the vignettes) with apt-get")
  sudo <- if (Sys.info()[["user"]] == "root") "" else "sudo "
  system(paste0(sudo, "apt-get update -qq && ", sudo,
                "env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pandoc"))
  if (!nzchar(Sys.which("pandoc"))) stop("pandoc is needed to build the vignettes")
}
