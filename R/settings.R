# The paper's simulation settings and the distinguishability condition.

setting_names <- c("distinguishable", "nondist_i", "nondist_ii", "nondist_ii_printed")

#' The simulation settings of Yan et al. (2025)
#'
#' Returns one of the paper's four simulation settings at sample size `n`
#' (the truth moves with `n` in the non-distinguishable ones). In all of them
#' \eqn{d = 8}, \eqn{X \sim N(0, I_d)}, \eqn{\eta_0 = e_1}, \eqn{\nu_0 = 0.001},
#' \eqn{\beta^* = 1_d/\sqrt{d}}, \eqn{\tau^* = 1} and both experts have the
#' `tanh` mean.
#'
#' | name | pre-trained | \eqn{\eta^*} | \eqn{\nu^*} | theory |
#' |---|---|---|---|---|
#' | `"distinguishable"` | Laplace | \eqn{-e_1} | 0.001 | all \eqn{n^{-1/2}} |
#' | `"nondist_i"` | Gaussian | \eqn{e_1(1 + n^{-1/8})} | 0.001 | \eqn{e^\tau}: \eqn{n^{-1/4}}, rest \eqn{n^{-3/8}} |
#' | `"nondist_ii"` | Gaussian | \eqn{e_1} | \eqn{0.001(1 + n^{-1/8})} | \eqn{e^\tau}: \eqn{n^{-1/4}}, rest \eqn{n^{-3/8}} |
#' | `"nondist_ii_printed"` | Gaussian | \eqn{-e_1} | \eqn{0.001(1 + n^{-1/8})} | all \eqn{n^{-1/2}} |
#'
#' The paper prints case (ii) with \eqn{\eta^* = -e_1}: then the prompt stays
#' far from the pre-trained expert (\eqn{r^* \to 2}), the setting is
#' non-distinguishable in name only and the theory predicts parametric rates.
#' `"nondist_ii"` uses \eqn{\eta^* = \eta_0 = e_1}, under which only \eqn{\nu^*}
#' approaches \eqn{\nu_0} and the slow rates apply; this is probably what was
#' meant. The slopes the paper reports (its Figures 1 and 2) are in `paper`,
#' the theory's in `theory`.
#'
#' `perturbation` (the constant \eqn{c} in \eqn{1 + c\, n^{-1/8}}) and `nu0`
#' go beyond the paper: the perturbation \eqn{c\, n^{-1/8}} is large next to
#' the noise scale \eqn{\sqrt{\nu_0}}, and changing either shows when the
#' asymptotic rates become visible.
#'
#' @param name One of `"distinguishable"`, `"nondist_i"`, `"nondist_ii"`,
#'   `"nondist_ii_printed"`.
#' @param n Sample size.
#' @param perturbation The constant \eqn{c} of the perturbation \eqn{c\,n^{-1/8}}.
#' @param nu0 Variance of the pre-trained expert (and base of \eqn{\nu^*}).
#' @return An object of class `cmoe_setting`: `name`, `n`, `d`, `pretrained`
#'   (an [expert_spec()]), `mean`, `truth` (`beta`, `tau`, `eta`, `nu`),
#'   `draw_x` (a function of `n` drawing the covariates), `loss` (`"D1"` or
#'   `"D2"`), `theory` (slopes of the errors `beta`, `exp_tau`, `eta`, `nu`
#'   and of the loss, whose rate is \eqn{n^{-1/2}} in every setting) and
#'   `paper` (the slopes the paper reports for the four errors).
#' @examples
#' s <- paper_setting("nondist_i", n = 1000)
#' s$truth$eta
#' s$theory
#' @export
paper_setting <- function(name = setting_names, n, perturbation = 1, nu0 = 0.001) {
  name <- check_choice(name[1L], "name", setting_names)
  check_number(n, "n", lower = 1)
  check_number(perturbation, "perturbation")
  check_number(nu0, "nu0", lower = 0, strict_lower = TRUE)
  d <- 8L
  e1 <- c(1, rep(0, d - 1L))
  bump <- 1 + perturbation * n^(-1 / 8)
  family <- if (name == "distinguishable") "laplace" else "gaussian"
  eta <- switch(name, distinguishable = -e1, nondist_i = e1 * bump, nondist_ii = e1,
                nondist_ii_printed = -e1)
  nu <- if (name %in% c("nondist_ii", "nondist_ii_printed")) nu0 * bump else nu0
  slow <- name %in% c("nondist_i", "nondist_ii")
  slopes <- function(b, t, e, v) c(beta = b, exp_tau = t, eta = e, nu = v, loss = -1 / 2)
  structure(list(
    name = name, n = n, d = d,
    pretrained = expert_spec(family, "tanh", eta = e1, nu = nu0),
    mean = "tanh",
    truth = list(beta = rep(1 / sqrt(d), d), tau = 1, eta = eta, nu = nu),
    draw_x = function(n) {
      matrix(stats::rnorm(n * d), n, d, dimnames = list(NULL, paste0("x", seq_len(d))))
    },
    loss = if (name == "distinguishable") "D1" else "D2",
    theory = if (slow) slopes(-3 / 8, -1 / 4, -3 / 8, -3 / 8) else slopes(-1 / 2, -1 / 2, -1 / 2, -1 / 2),
    paper = switch(name,
      distinguishable = slopes(-0.45, -0.52, -0.50, -0.54),
      nondist_i = slopes(-0.37, -0.23, -0.39, -0.35),
      slopes(-0.39, -0.22, -0.37, -0.39)
    )[1:4]
  ), class = "cmoe_setting")
}

#' @export
print.cmoe_setting <- function(x, ...) {
  cat(sprintf("Setting \"%s\" at n = %s (d = %d, loss %s)\n", x$name, format(x$n), x$d, x$loss))
  print(x$pretrained)
  tr <- x$truth
  cat(sprintf("truth: tau = %g, nu = %g\n  beta = %s\n  eta  = %s\n", tr$tau, tr$nu,
              paste(format(tr$beta, digits = 4), collapse = " "),
              paste(format(tr$eta, digits = 4), collapse = " ")))
  invisible(x)
}

#' Is a pre-trained expert distinguishable from the prompt experts?
#'
#' Applies Proposition 1 of Yan et al. (2025). A pre-trained density that is
#' not Gaussian (Laplace, Student-t) is distinguishable from every Gaussian
#' prompt expert, and all parameters are estimated at the parametric rate. A
#' Gaussian pre-trained expert whose mean function belongs to the prompt's
#' family (same mean function, or both zero) is not: a prompt can coincide
#' with it, and as the true prompt approaches it the rates slow down (see
#' [cmoe_loss()]). A Gaussian pre-trained expert whose mean cannot be written
#' as \eqn{h(\eta^\top x)} with the prompt's mean function \eqn{h} is not
#' covered by the proposition; no prompt can equal it, so it is reported as
#' distinguishable with that caveat.
#'
#' @param pretrained An [expert_spec()], or a fitted `lm` / Gaussian `glm`
#'   (a Gaussian expert with a linear mean, or with the inverse link of a
#'   Gaussian `glm` with another link).
#' @param mean The prompt experts' mean function.
#' @return An object of class `cmoe_distinguishability`: `distinguishable`
#'   (`TRUE`/`FALSE`) and `reason` (a sentence).
#' @examples
#' distinguishable(expert_spec("laplace", "tanh", eta = 1, nu = 1), "tanh")
#' distinguishable(expert_spec("gaussian", "tanh", eta = 1, nu = 1), "tanh")
#' @export
distinguishable <- function(pretrained, mean = "tanh") {
  pretrained <- as_expert_spec(pretrained)
  check_choice(mean, "mean", mean_functions)
  is_model <- inherits(pretrained, "expert_model")
  link <- if (is_model) stats::family(pretrained$model)$link else "identity"
  h0 <- if (!is_model) pretrained$mean else if (link == "identity") "linear" else
    sprintf("%s-link glm", link)
  zero_mean <- !is_model && all(pretrained$eta == 0) &&
    mean_eval(h0, 0)$h == 0 && mean_eval(mean, 0)$h == 0
  out <- if (pretrained$family != "gaussian") {
    list(TRUE, sprintf(paste0(
      "The pre-trained density is %s, not Gaussian, so no Gaussian prompt expert can equal it ",
      "or its derivatives (Proposition 1): all parameters have parametric rates n^(-1/2)."),
      if (pretrained$family == "laplace") "Laplace" else "Student-t"))
  } else if (h0 == mean || zero_mean) {
    list(FALSE, sprintf(paste0(
      "The pre-trained expert is Gaussian with a %s mean, which the %s prompt family contains: ",
      "a prompt can coincide with it (Proposition 1). Rates slow down as the true prompt ",
      "approaches it: |exp(tau) error| ~ n^(-1/2) r*^(-2), the rest ~ n^(-1/2) r*^(-1)."),
      if (zero_mean) "zero" else h0, mean))
  } else {
    list(TRUE, sprintf(paste0(
      "The pre-trained expert is Gaussian, but its %s mean is not of the form %s(eta'x), so no ",
      "prompt can equal it; this case lies outside Proposition 1, which covers non-Gaussian ",
      "densities and Gaussians sharing the prompt's mean function."), h0, mean))
  }
  structure(list(distinguishable = out[[1L]], reason = out[[2L]]),
            class = "cmoe_distinguishability")
}

#' @export
print.cmoe_distinguishability <- function(x, ...) {
  cat(if (x$distinguishable) "Distinguishable.\n" else "Not distinguishable.\n")
  cat(strwrap(x$reason), sep = "\n")
  invisible(x)
}
