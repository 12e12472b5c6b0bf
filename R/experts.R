# Mean functions, pre-trained expert specifications and their evaluation.

mean_functions <- c("linear", "tanh", "sigmoid", "gelu", "relu")
families <- c("gaussian", "laplace", "student")

mean_code <- function(mean) match(mean, mean_functions)
family_code <- function(family) match(family, families)

#' Specify the pre-trained expert
#'
#' The pre-trained expert \eqn{f_0(y \mid h_0(x, \eta_0), \nu_0)} is fixed and
#' known: a density family with mean \eqn{h_0(\eta_0^\top x)} and
#' **variance** \eqn{\nu_0}. A Laplace expert of variance \eqn{\nu_0} has scale
#' \eqn{\sqrt{\nu_0/2}}; a Student-t expert with `df` degrees of freedom
#' (`df > 2`) has scale \eqn{\sqrt{\nu_0 (df - 2)/df}}.
#'
#' The mean functions of the index \eqn{u = \eta^\top x} are `"linear"`
#' (\eqn{u}), `"tanh"`, `"sigmoid"` (\eqn{1/(1 + e^{-u})}), `"gelu"`
#' (\eqn{u \Phi(u)}) and `"relu"` (\eqn{\max(u, 0)}). The index uses the
#' columns of the expert design matrix of the model, so an intercept is
#' included exactly when the formula has one (`y ~ x` has, `y ~ x - 1` has not).
#'
#' A fitted [stats::lm()] or Gaussian [stats::glm()] may be passed to [cmoe()]
#' or [rcmoe()] instead: its predictions are the mean and its residual variance
#' (`sigma(fit)^2`) the variance \eqn{\nu_0}.
#'
#' @param family Density family of the pre-trained expert: `"gaussian"`,
#'   `"laplace"` or `"student"`.
#' @param mean Mean function, one of `"linear"`, `"tanh"`, `"sigmoid"`,
#'   `"gelu"`, `"relu"`.
#' @param eta Coefficients \eqn{\eta_0} of the index, one per column of the
#'   expert design matrix.
#' @param nu Variance \eqn{\nu_0 > 0}.
#' @param df Degrees of freedom of the Student-t family (greater than 2).
#' @return An object of class `expert_spec`.
#' @seealso [as_expert_spec()] for fitted `lm`/`glm` models, [cmoe()].
#' @examples
#' expert_spec("laplace", "tanh", eta = c(1, 0), nu = 0.001)
#' expert_spec("student", "linear", eta = c(0.5, 2), nu = 1, df = 5)
#' @export
expert_spec <- function(family = "gaussian", mean = "tanh", eta, nu, df = NULL) {
  check_choice(family, "family", families)
  check_choice(mean, "mean", mean_functions)
  if (missing(eta)) abort_input("`eta` is missing: give the pre-trained coefficients.")
  if (missing(nu)) abort_input("`nu` is missing: give the pre-trained variance.")
  eta <- check_finite_numeric(eta, "eta")
  if (length(eta) < 1L) abort_input("`eta` must have at least one element.")
  check_number(nu, "nu", lower = 0, strict_lower = TRUE)
  if (family == "student") {
    if (is.null(df)) abort_input("`df` is needed for the Student-t family.")
    check_number(df, "df", lower = 2, strict_lower = TRUE, upper = 1e10)
  } else if (!is.null(df)) {
    abort_input(sprintf("`df` applies to the Student-t family only, not to \"%s\".", family))
  }
  structure(list(family = family, mean = mean, eta = eta, nu = as.numeric(nu),
                 df = if (is.null(df)) NA_real_ else as.numeric(df)),
            class = "expert_spec")
}

#' Use a fitted linear model as the pre-trained expert
#'
#' Converts a fitted [stats::lm()] or Gaussian [stats::glm()] into a
#' pre-trained expert: a Gaussian density whose mean is the model's prediction
#' at the new covariates and whose variance is the model's residual variance.
#'
#' @param x An `expert_spec`, or a fitted `lm` or Gaussian `glm`.
#' @return An `expert_spec`, or an object of class `expert_model` holding the
#'   fitted model.
#' @examples
#' src <- data.frame(x = rnorm(50))
#' src$y <- 1 + 2 * src$x + rnorm(50, sd = 0.1)
#' as_expert_spec(lm(y ~ x, data = src))
#' @export
as_expert_spec <- function(x) {
  if (inherits(x, c("expert_spec", "expert_model"))) return(x)
  if (inherits(x, "glm") && !identical(stats::family(x)$family, "gaussian")) {
    abort_input("`pretrained` must be a Gaussian glm; other glm families have no variance to use.")
  }
  if (inherits(x, "lm")) {
    nu <- stats::sigma(x)^2
    scale <- stats::var(stats::fitted(x) + stats::residuals(x))
    if (!is.finite(nu) || nu <= 1e-20 * max(scale, .Machine$double.xmin)) {
      abort_input("`pretrained` is a model with zero or undefined residual variance.")
    }
    return(structure(list(family = "gaussian", model = x, nu = nu, df = NA_real_),
                     class = "expert_model"))
  }
  abort_input(sprintf(
    "`pretrained` must be an `expert_spec()`, an lm or a Gaussian glm, not %s.", describe(x)))
}

#' @export
print.expert_spec <- function(x, ...) {
  cat(sprintf("Pre-trained expert: %s, mean %s(eta'x), variance %g%s\n", x$family, x$mean,
              x$nu, if (x$family == "student") sprintf(", df %g", x$df) else ""))
  cat("eta:", format(x$eta, digits = 4), "\n")
  invisible(x)
}

#' @export
print.expert_model <- function(x, ...) {
  cat(sprintf("Pre-trained expert: gaussian, mean from a fitted %s, variance %g\n",
              class(x$model)[1L], x$nu))
  invisible(x)
}

# h(u), h'(u), h''(u) for a vector u, computed in C.
mean_eval <- function(mean, u) .Call(C_mean_eval, mean_code(mean), as.double(u))

# Mean of the pre-trained expert at the expert design xe (or at the rows of
# `data` for a fitted model). `design` says what xe is, for the error message.
pretrained_mean <- function(pretrained, xe, data = NULL, design = "formula") {
  if (inherits(pretrained, "expert_model")) {
    return(as.numeric(stats::predict(pretrained$model, newdata = data, type = "response")))
  }
  if (length(pretrained$eta) != ncol(xe)) {
    hint <- if (design == "formula") {
      "give one coefficient per column, or drop the intercept with `- 1` in the formula."
    } else {
      sprintf("give one coefficient per column of `%s`.", design)
    }
    abort_input(sprintf(
      "`pretrained` has %d coefficients in `eta` but the expert design has %d columns (%s); %s",
      length(pretrained$eta), ncol(xe), paste(colnames(xe), collapse = ", "), hint), call = NULL)
  }
  index_mean(xe, pretrained$eta, pretrained$mean)
}

# h(x eta) for a design matrix x, in one pass in C.
index_mean <- function(x, eta, mean) {
  if (!is.double(x)) storage.mode(x) <- "double"
  .Call(C_index_mean, x, as.double(eta), mean_code(mean))
}

# log f0(y | m0, nu0) for every observation.
pretrained_logdens <- function(pretrained, y, m0) {
  .Call(C_log_f0, family_code(pretrained$family), as.double(y), as.double(m0),
        as.double(pretrained$nu), as.double(pretrained$df))
}

# Draws from the pre-trained density around the means m0.
pretrained_draw <- function(pretrained, m0) {
  n <- length(m0)
  nu <- pretrained$nu
  noise <- switch(pretrained$family,
    gaussian = stats::rnorm(n, sd = sqrt(nu)),
    laplace = stats::rexp(n, rate = 1 / sqrt(nu / 2)) * sample(c(-1, 1), n, replace = TRUE),
    student = stats::rt(n, df = pretrained$df) * sqrt(nu * (pretrained$df - 2) / pretrained$df)
  )
  m0 + noise
}
