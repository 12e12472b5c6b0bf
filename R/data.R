#' The paper's experiments at full scale
#'
#' A [rate_study()] of the four settings of [paper_setting()]
#' (`"distinguishable"`, `"nondist_i"`, `"nondist_ii"`,
#' `"nondist_ii_printed"`) at 20 sample sizes from \eqn{10^3} to \eqn{10^5}
#' (evenly spaced on the log scale) with 40 replications each: 3200 fits of
#' the exact maximum likelihood estimator (Newton's method with the analytic
#' Hessian, started at the truth, relative tolerance \eqn{10^{-10}}).
#' Computed by `inst/scripts/paper-study.R` (`system.file("scripts",
#' "paper-study.R", package = "contamoe")`); its wall time and number of
#' workers are in the attributes `wall_seconds` and `workers`.
#'
#' @format A data frame of class `cmoe_rate_study` with one row per fit and
#'   the columns described in [rate_study()].
#' @examples
#' rate_slopes(paper_study, parameters = c("beta", "exp_tau", "eta", "nu"))
"paper_study"
