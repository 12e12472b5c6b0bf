# S3 methods for cmoe fits.

#' Methods for fitted contaminated mixtures of experts
#'
#' The usual accessors for a [cmoe()] fit. `vcov()` and `confint()` use the
#' analytic observed information (see [cmoe()]); confidence intervals are
#' Wald intervals on the reported scale. `logLik()` carries `df` (the number
#' of free parameters) and `nobs`, so [stats::AIC()] and [stats::BIC()] work.
#' `fitted()` is the mixture mean \eqn{E(y \mid x) = \pi_0(x) m_0(x) +
#' \sum_k \pi_k(x) h(\eta_k^\top x)} (every pre-trained family is symmetric
#' about its mean) and `residuals()` is `y` minus it; both are padded with
#' `NA` for `na.action = na.exclude`, as for [stats::lm()].
#'
#' @param object,x A `cmoe` fit.
#' @param parm,level As in [stats::confint()].
#' @param digits Number of significant digits to print.
#' @param ... Unused.
#' @return `coef()`: named vector (\eqn{\beta, \tau, \eta, \nu} per prompt);
#'   `vcov()`: its covariance matrix; `summary()`: an object of class
#'   `summary.cmoe` with the coefficient table, log-likelihood, AIC, BIC and
#'   convergence record.
#' @examples
#' set.seed(2)
#' x <- matrix(rnorm(1000), ncol = 1, dimnames = list(NULL, "x"))
#' pre <- expert_spec("gaussian", "linear", eta = 1, nu = 0.1)
#' d <- rcmoe(x, beta = 1, tau = 0, eta = -1, nu = 0.1, pretrained = pre, mean = "linear")
#' fit <- cmoe(y ~ x - 1, data = d, pretrained = pre, mean = "linear")
#' coef(fit)
#' confint(fit)
#' AIC(fit)
#' @name cmoe-methods
NULL

#' @rdname cmoe-methods
#' @export
coef.cmoe <- function(object, ...) object$coefficients

#' @rdname cmoe-methods
#' @export
vcov.cmoe <- function(object, ...) object$vcov

#' @rdname cmoe-methods
#' @export
confint.cmoe <- function(object, parm, level = 0.95, ...) {
  check_number(level, "level", lower = 0, upper = 1, strict_lower = TRUE, strict_upper = TRUE)
  stats::confint.default(object, parm, level, ...)
}

#' @rdname cmoe-methods
#' @export
logLik.cmoe <- function(object, ...) {
  structure(object$loglik, df = object$npar, nobs = object$nobs, class = "logLik")
}

#' @rdname cmoe-methods
#' @export
nobs.cmoe <- function(object, ...) object$nobs

#' @rdname cmoe-methods
#' @export
fitted.cmoe <- function(object, ...) {
  stats::napredict(object$na.action, predict(object))
}

#' @rdname cmoe-methods
#' @export
residuals.cmoe <- function(object, ...) {
  stats::naresid(object$na.action, object$y - predict(object))
}

#' @rdname cmoe-methods
#' @export
print.cmoe <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("Softmax-contaminated mixture of experts:", x$K, if (x$K == 1L) "prompt" else "prompts",
      "with", x$mean, "mean\n")
  cat("Call:", paste(deparse(x$call), collapse = "\n"), "\n\n")
  print(format(coef(x), digits = digits), quote = FALSE)
  cat(sprintf("\nlog-likelihood %s on %d parameters, n = %d; %s after %d iterations (%s)\n",
              format(x$loglik, digits = digits + 3L), x$npar, x$nobs,
              if (x$converged) "converged" else "NOT converged", x$iterations, x$method))
  invisible(x)
}

#' @rdname cmoe-methods
#' @export
summary.cmoe <- function(object, ...) {
  est <- coef(object)
  se <- sqrt(diag(object$vcov))
  z <- est / se
  is_nu <- grepl("^nu[0-9]*$", names(est))
  z[is_nu] <- NA_real_
  tab <- cbind(Estimate = est, `Std. Error` = se, `z value` = z,
               `Pr(>|z|)` = 2 * stats::pnorm(-abs(z)))
  ll <- logLik(object)
  structure(list(call = object$call, coefficients = tab, loglik = object$loglik,
                 aic = stats::AIC(ll), bic = stats::BIC(ll), nobs = object$nobs,
                 K = object$K, mean = object$mean, pretrained = object$pretrained,
                 method = object$method, converged = object$converged,
                 status = object$status, iterations = object$iterations,
                 relchange = object$relchange, at_floor = object$at_floor,
                 lr_pretrained = object$lr_pretrained),
            class = "summary.cmoe")
}

#' @rdname cmoe-methods
#' @export
print.summary.cmoe <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("Softmax-contaminated mixture of experts\nCall:", paste(deparse(x$call), collapse = "\n"),
      "\n\n")
  print(x$pretrained)
  cat(sprintf("Prompt experts: %d, Gaussian with %s mean\n\n", x$K, x$mean))
  stats::printCoefmat(x$coefficients, digits = digits, na.print = "")
  cat("(standard errors from the analytic observed information; no test for nu)\n\n")
  cat(sprintf("log-likelihood: %s   AIC: %s   BIC: %s   n = %d\n",
              format(x$loglik, digits = digits + 3L), format(x$aic, digits = digits + 3L),
              format(x$bic, digits = digits + 3L), x$nobs))
  cat(sprintf("Against the pre-trained expert alone: likelihood ratio %s on %d parameters\n",
              format(x$lr_pretrained, digits = digits + 2L), nrow(x$coefficients)))
  cat(sprintf("Method %s: %s after %d iterations, final relative change %.3g%s\n",
              x$method, x$status, x$iterations, x$relchange,
              if (x$at_floor) "; a prompt variance is on its floor" else ""))
  invisible(x)
}

#' Predictions from a contaminated mixture of experts
#'
#' @param object A `cmoe` fit.
#' @param newdata A data frame; the fitted data when missing.
#' @param type `"mean"`: the mixture mean \eqn{E(y \mid x)}; `"gate"`: the
#'   gate probabilities (for `K = 1` the prompt probability \eqn{s(x)}, for
#'   `K > 1` a matrix of the `K + 1` probabilities, pre-trained first);
#'   `"posterior"`: the posterior responsibilities given `y` (same shape);
#'   `"density"`: the model density \eqn{p(y \mid x)}.
#' @param y Responses for `"posterior"` and `"density"`; taken from `newdata`
#'   (or the fitted data) when `NULL`.
#' @param ... Unused.
#' @return A vector, or a matrix for `K > 1` gate probabilities and
#'   responsibilities. Rows of `newdata` with missing covariates get `NA`
#'   for types `"mean"` and `"gate"`; `"posterior"` and `"density"` need
#'   complete covariates and responses.
#' @examples
#' set.seed(3)
#' x <- matrix(rnorm(600), ncol = 1, dimnames = list(NULL, "x"))
#' pre <- expert_spec("laplace", "tanh", eta = 1, nu = 0.01)
#' d <- rcmoe(x, beta = 2, tau = 0, eta = -1, nu = 0.01, pretrained = pre)
#' fit <- cmoe(y ~ x - 1, data = d, pretrained = pre)
#' new <- data.frame(x = c(-1, 0, 1), y = c(0, 0, 0))
#' predict(fit, new, type = "gate")
#' predict(fit, new, type = "density")
#' @export
predict.cmoe <- function(object, newdata, type = c("mean", "gate", "posterior", "density"),
                         y = NULL, ...) {
  type <- check_choice(type[1L], "type", c("mean", "gate", "posterior", "density"))
  needs_y <- type %in% c("posterior", "density")
  if (missing(newdata) || is.null(newdata)) {
    des <- list(xe = object$xe, xg = object$xg, m0 = object$pretrained_mean, y = object$y)
  } else {
    if (!is.data.frame(newdata)) {
      abort_input(sprintf("`newdata` must be a data frame, not %s.", describe(newdata)))
    }
    des <- new_design(object, newdata, needs_y && is.null(y))
  }
  if (!is.null(y)) {
    des$y <- check_finite_numeric(y, "y", length(des$m0))
  }
  ev <- cmoe_eval(object, des$xe, des$xg, des$m0, if (needs_y) des$y)
  out <- switch(type, mean = rowSums(ev$gate * ev$mean), gate = ev$gate,
                posterior = ev$posterior, density = exp(ev$logdens))
  # named by the rows they came from, as lm names them
  nm <- if (!missing(newdata) && !is.null(newdata)) row.names(newdata) else
    if (is.null(object$row_names)) as.character(seq_along(des$m0)) else as.character(object$row_names)
  if (is.matrix(out)) rownames(out) <- nm else names(out) <- nm
  if (is.matrix(out) && object$K == 1L) out <- out[, 2L]
  out
}

# Designs and pre-trained means for new data.
new_design <- function(object, newdata, with_response) {
  f <- object$formula
  rhs <- Formula::as.Formula(stats::formula(f, lhs = 0L))
  mf <- stats::model.frame(rhs, newdata, na.action = stats::na.pass, xlev = object$xlevels)
  des <- model_design(rhs, mf, response = FALSE, arg = "newdata")
  des$m0 <- if (inherits(object$pretrained, "expert_model")) {
    pretrained_mean(object$pretrained, NULL, newdata)
  } else {
    pretrained_mean(object$pretrained, des$xe)
  }
  if (with_response) {
    yname <- all.vars(stats::formula(f, rhs = 0L))
    if (!all(yname %in% names(newdata))) {
      abort_input("`newdata` has no response: add it or give `y`.", call = NULL)
    }
    des$y <- check_finite_numeric(eval(stats::formula(f, rhs = 0L)[[2L]], newdata,
                                       environment(f)), "y")
  }
  des
}

row_lse <- function(a) {
  m <- a[cbind(seq_len(nrow(a)), max.col(a, ties.method = "first"))]
  m[!is.finite(m)] <- 0
  m + log(rowSums(exp(a - m)))
}

# Gate probabilities, expert means and, given y, the log density and the
# posterior responsibilities; an R transcription of the C likelihood.
cmoe_eval <- function(object, xe, xg, m0, y = NULL) {
  p <- object$params
  g <- cbind(0, sweep(gate_matrix(xe, xg) %*% p$beta, 2L, p$tau, "+"))
  lg <- row_lse(g)
  mu <- cbind(m0, vapply(seq_len(object$K), function(k) index_mean(xe, p$eta[, k], object$mean),
                         numeric(nrow(xe))))
  labels <- c("pretrained", if (object$K == 1L) "prompt" else paste0("prompt", seq_len(object$K)))
  out <- list(gate = exp(g - lg), mean = mu)
  colnames(out$gate) <- colnames(out$mean) <- labels
  if (!is.null(y)) {
    lf0 <- pretrained_logdens(object$pretrained, y, m0)
    la <- cbind(lf0, g[, -1L, drop = FALSE] +
                  vapply(seq_len(object$K), function(k) {
                    stats::dnorm(y, mu[, k + 1L], sqrt(p$nu[k]), log = TRUE)
                  }, numeric(length(y))))
    lla <- row_lse(la)
    out$logdens <- lla - lg
    out$posterior <- exp(la - lla)
    colnames(out$posterior) <- labels
  }
  out
}

#' Plot a contaminated mixture of experts fit
#'
#' Three panels: (1) the response against the first prompt's index
#' \eqn{\eta^\top x}, points coloured by their posterior probability of
#' coming from a prompt (grey: pre-trained, red: prompt), with the prompt
#' mean as a line and the pre-trained means as blue dots; (2) the prompt
#' probability \eqn{s(x)} against the gate index \eqn{\beta^\top x + \tau};
#' (3) the log-likelihood path of the fit. With several prompts, panels 1
#' and 2 use the first (largest) prompt's index and gate, and the colour is
#' the posterior probability of any prompt.
#'
#' @param x A `cmoe` fit.
#' @param which Panels to draw, a subset of `1:3`.
#' @param ... Passed to the first panel's [graphics::plot()].
#' @return `x`, invisibly.
#' @examples
#' set.seed(4)
#' x <- matrix(rnorm(600), ncol = 1, dimnames = list(NULL, "x"))
#' pre <- expert_spec("laplace", "tanh", eta = 1, nu = 0.01)
#' d <- rcmoe(x, beta = 2, tau = 0, eta = -1, nu = 0.01, pretrained = pre)
#' fit <- cmoe(y ~ x - 1, data = d, pretrained = pre)
#' plot(fit, which = 1)
#' @export
plot.cmoe <- function(x, which = 1:3, ...) {
  if (!is.numeric(which) || !length(which) || !all(which %in% 1:3)) {
    abort_input("`which` must be a subset of 1:3.")
  }
  p <- x$params
  if (1 %in% which) {
    u <- drop(x$xe %*% p$eta[, 1L])
    r <- 1 - x$responsibilities[, 1L]
    pal <- grDevices::colorRampPalette(c("grey60", "red3"))(101)
    graphics::plot(u, x$y, col = pal[round(100 * r) + 1L], pch = 16, cex = 0.5,
                   xlab = "prompt index eta'x", ylab = "y", main = "Data and experts", ...)
    graphics::points(u, x$pretrained_mean, col = "blue", pch = ".", cex = 2)
    o <- order(u)
    graphics::lines(u[o], mean_eval(x$mean, u[o])$h, col = "red3", lwd = 2)
    graphics::legend("topleft", c("prompt mean", "pre-trained mean"), col = c("red3", "blue"),
                     lty = c(1, NA), pch = c(NA, 16), bty = "n", cex = 0.8)
  }
  if (2 %in% which) {
    g <- drop(gate_matrix(x$xe, x$xg) %*% p$beta[, 1L]) + p$tau[1L]
    s <- predict(x, type = "gate")
    if (is.matrix(s)) s <- s[, 2L]
    o <- order(g)
    graphics::plot(g[o], s[o], type = "l", lwd = 2, ylim = c(0, 1), xlab = "gate index beta'x + tau",
                   ylab = "prompt probability s(x)", main = "Gate")
    graphics::rug(g)
  }
  if (3 %in% which) {
    graphics::plot(seq_along(x$loglik_path) - 1L, x$loglik_path, type = "o", pch = 20,
                   xlab = "iteration", ylab = "log-likelihood",
                   main = sprintf("Log-likelihood path (%s)", x$method))
  }
  invisible(x)
}
