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

#' Slow rates in the non-distinguishable case (i)
#'
#' A [rate_study()] of case (i) of the paper, \eqn{\eta^* = e_1(1 + c\,
#' n^{-1/8})}, with smaller perturbation constants than the paper's \eqn{c =
#' 1}: settings `"nondist_i_c0.3"` and `"nondist_i_c0.1"` (see the
#' `perturbation` argument of [paper_setting()]), at 9 sample sizes from
#' \eqn{10^4} to \eqn{10^6} with 20 replications each, the exact MLE started at
#' the truth. Computed by `inst/scripts/slow-rates-study.R`; wall time and
#' workers in the attributes `wall_seconds` and `workers`.
#'
#' @format A data frame of class `cmoe_rate_study`, as described in
#'   [rate_study()].
#' @examples
#' rate_slopes(slow_rates_study, degenerate = "exclude")
"slow_rates_study"
