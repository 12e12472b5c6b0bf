# Fitting: cmoe() (formula interface), cmoe_control() and the workhorse
# cmoe_fit() on plain matrices that rate studies call directly.

#' Control the fitting of a contaminated mixture of experts
#'
#' @param tol Relative tolerance: a fit has converged when one iteration
#'   changes the log-likelihood \eqn{\ell} by at most `tol * (abs(l) + 1)`.
#' @param maxit Maximum number of iterations (EM iterations or Newton steps).
#' @param inner_maxit Maximum number of inner Newton / Gauss-Newton steps for
#'   the gate and for each prompt mean within one M-step of EM.
#' @param nu_floor Floor on each prompt variance, relative to the variance of
#'   the response: \eqn{\nu \ge} `nu_floor * var(y)`. A fit that ends on the
#'   floor is flagged with a warning (the likelihood is unbounded as a prompt
#'   collapses onto a point).
#' @param gate_bound A fit stops, flagged as a runaway gate with a warning and
#'   `converged = FALSE`, when for some prompt the gate's linear predictor
#'   \eqn{\beta^\top x + \tau} exceeds `gate_bound` in absolute value at
#'   every observation, or `50 * gate_bound` at some observation: that prompt
#'   is then certain or impossible against the pre-trained expert everywhere
#'   (to within \eqn{e^{-10}} by default), or somewhere beyond any sense, as
#'   when the likelihood has no finite maximiser (a separable gate, or a prompt
#'   that is almost the pre-trained expert). A steep but finite gate, with some
#'   observations near its boundary, is not affected: at a finite maximum the
#'   gate cannot be that sure of every observation. A separable gate's
#'   optimiser may stop on its tolerance just before the bound is reached,
#'   which a tighter `tol` or a smaller `gate_bound` avoids.
#' @return A list of class `cmoe_control`.
#' @examples
#' cmoe_control(tol = 1e-8, maxit = 200)
#' @export
cmoe_control <- function(tol = 1e-10, maxit = 5000L, inner_maxit = 50L, nu_floor = 1e-8,
                         gate_bound = 10) {
  check_number(tol, "tol", lower = 0, upper = 1, strict_lower = TRUE)
  check_number(maxit, "maxit", lower = 0, upper = 1e7, integer = TRUE)
  check_number(inner_maxit, "inner_maxit", lower = 1, upper = 1e4, integer = TRUE)
  check_number(nu_floor, "nu_floor", lower = 0, upper = 1, strict_lower = TRUE)
  check_number(gate_bound, "gate_bound", lower = 0, strict_lower = TRUE)
  structure(list(tol = tol, maxit = as.integer(maxit), inner_maxit = as.integer(inner_maxit),
                 nu_floor = nu_floor, gate_bound = gate_bound), class = "cmoe_control")
}

as_control <- function(control) {
  if (inherits(control, "cmoe_control")) return(control)
  if (!is.list(control) || (length(control) && is.null(names(control))) ||
      !all(names(control) %in% names(formals(cmoe_control)))) {
    abort_input(sprintf("`control` must be a `cmoe_control()` or a named list of its arguments (%s).",
                        paste(names(formals(cmoe_control)), collapse = ", ")), call = NULL)
  }
  do.call(cmoe_control, control)
}

#' Fit a softmax-contaminated mixture of experts
#'
#' Maximum likelihood for the model
#' \deqn{p(y \mid x) = \pi_0(x) f_0(y \mid x) + \sum_{k=1}^K \pi_k(x)
#'   N(y \mid h(\eta_k^\top x), \nu_k),}
#' where the pre-trained expert \eqn{f_0} is fixed and known and the softmax
#' gate \eqn{\pi_k(x) = \exp(\beta_k^\top z + \tau_k) / (1 + \sum_l
#' \exp(\beta_l^\top z + \tau_l))} takes the pre-trained expert as its
#' reference class. With `K = 1` this is the model of Yan et al. (2025), with
#' prompt probability \eqn{s(x) = \pi_1(x)}.
#'
#' @section Formula: `y ~ x1 + x2` uses the same covariates for the prompt
#'   experts and the gate; `y ~ x1 + x2 | z1 + z2` gives the gate its own. The
#'   expert design has an intercept unless the formula drops it (`- 1`); the
#'   gate never gets an intercept column since \eqn{\tau} plays that part.
#'   Factors are coded as in [stats::lm()].
#'
#' @section Methods: `"direct"` (the default) maximises the observed
#'   log-likelihood by Newton's method with the analytic Hessian in
#'   \eqn{(\beta, \tau, \eta, \log\nu)}: a ridge when the Hessian is not
#'   negative definite, backtracking, and one pass over the data with the
#'   Hessian per iteration. It stops when the predicted gain of the next
#'   Newton step, or the gain of the last one, is below the tolerance; it
#'   needs few iterations even where EM crawls (a weakly identified prompt, or
#'   more prompts than the data support). `"em"` alternates posterior responsibilities with an
#'   M-step made of Newton steps for the gate (a weighted multinomial logistic
#'   regression), Gauss-Newton steps for each \eqn{\eta_k} (exact weighted least
#'   squares for the linear mean) and the closed-form \eqn{\nu_k}; each inner
#'   step is backtracked so that the observed log-likelihood never decreases;
#'   it stops on the relative change of the log-likelihood (see
#'   [cmoe_control()]).
#'
#' @section Starting values: the automatic start computes, for every
#'   observation, the probability that it comes from a broad Gaussian (the
#'   marginal mean and variance of `y`) rather than from the pre-trained
#'   expert, uses these as responsibilities (split by the quantiles of `y`
#'   across prompts when `K > 1`), and runs one M-step from them. With
#'   `nstart > 1`, further starts perturb the first one: \eqn{N(0, 1)} added to
#'   the gate coefficients, \eqn{N(0, 0.5^2)} to the prompt coefficients (both
#'   divided by the root mean square of their covariate column, as if every
#'   covariate had unit scale), and \eqn{\nu} multiplied by \eqn{\exp(N(0, 1))}. The fit with the
#'   largest log-likelihood is kept; `fit$starts` records them all. Set a seed
#'   for reproducible random starts.
#'
#' @section Diagnostics: warnings of class `contamoe_warning_convergence` (no
#'   convergence), `contamoe_warning_floor` (a prompt variance on its floor:
#'   the prompt collapsed onto a point), `contamoe_warning_gate` (the gate ran
#'   off, see [cmoe_control()]), `contamoe_warning_information` (no standard
#'   errors: the observed information is not positive definite) and
#'   `contamoe_warning_identifiability`. The last compares the fit with the
#'   pre-trained expert alone: when the likelihood ratio statistic
#'   `lr_pretrained` \eqn{= 2(\ell - \sum_i \log f_0(y_i \mid x_i))} is below the
#'   95\% point of a \eqn{\chi^2} with as many degrees of freedom as
#'   parameters, the prompt does not detectably improve on the pre-trained
#'   expert, as when the two coincide (the non-identifiable case of a Gaussian
#'   pre-trained expert with the prompt's mean function). This is a heuristic:
#'   the statistic has no \eqn{\chi^2} law at that boundary. A rank-deficient
#'   design is an error.
#'
#' @section Several prompts: with `K > 1` the gate is a softmax over the
#'   pre-trained expert (the reference class, logit 0) and `K` prompts.
#'   Mixtures are identified only up to the order of their components; the
#'   fitted prompts are put in a canonical order, by decreasing share of the
#'   data (the sum of their posterior responsibilities, which at the maximum
#'   equals the sum of their gate probabilities), so that `prompt1` is the
#'   largest. Coefficients are named `beta1_x`, `tau1`, `eta1_x`, `nu1`,
#'   `beta2_x`, .... Choose `K` with [stats::AIC()] or [stats::BIC()], and
#'   compare fitted with true prompts by [cmoe_loss()] with `type = "voronoi"`.
#'
#' @section Standard errors: from the analytic observed information, the
#'   negative Hessian of the log-likelihood at the estimate, in
#'   \eqn{(\beta, \tau, \eta, \log\nu)}, with the delta method for \eqn{\nu}.
#'
#' @section Scale and memory: the covariates are used as given, without a
#'   scaled or centred copy: every linear system (Newton steps, the M-step
#'   systems, the information matrix) is equilibrated to unit diagonal, which
#'   is what scaling the covariate columns would achieve, and Newton steps do
#'   not depend on linear reparametrisation such as centring. Without a gate
#'   part in the formula the gate shares the expert design's columns. Fits
#'   keep the design matrix (as `lm` keeps its model frame) for `fitted()`,
#'   `predict()` and `simulate()`.
#'
#' @param formula A formula `y ~ expert_terms` or `y ~ expert_terms | gate_terms`.
#' @param data A data frame.
#' @param pretrained The pre-trained expert: an [expert_spec()], or a fitted
#'   `lm` or Gaussian `glm` (see [as_expert_spec()]).
#' @param mean Mean function of the prompt experts (see [expert_spec()]).
#' @param K Number of prompt experts.
#' @param method `"direct"` (Newton's method, the default) or `"em"`.
#' @param start Starting values: a list with `beta` (a matrix with one column
#'   per prompt, or a vector when `K = 1`), `tau`, `eta` and `nu`, or a `cmoe`
#'   fit; `NULL` for the automatic start.
#' @param nstart Number of starts; the first is `start` (or the automatic one).
#' @param control A [cmoe_control()] object or a list of its arguments.
#' @param subset,na.action As in [stats::lm()].
#' @return An object of class `cmoe`; see [summary.cmoe()] and the methods
#'   listed there. Its components include `coefficients`, `params`, `vcov`,
#'   `loglik`, `converged`, `iterations`, `relchange`, `loglik_path`,
#'   `responsibilities` and `starts`.
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and Rinaldo,
#'   A. (2025). On minimax estimation of parameters in softmax-contaminated
#'   mixture of experts. *NeurIPS 2025*. arXiv:2505.18455.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(2000), ncol = 2, dimnames = list(NULL, c("x1", "x2")))
#' pre <- expert_spec("laplace", "tanh", eta = c(1, 0), nu = 0.01)
#' d <- rcmoe(x, beta = c(0.5, 0.5), tau = 0, eta = c(-1, 0), nu = 0.01,
#'            pretrained = pre)
#' fit <- cmoe(y ~ x1 + x2 - 1, data = d, pretrained = pre)
#' summary(fit)
#'
#' # choosing the number of prompts: two prompts are true here
#' d2 <- rcmoe(x, beta = cbind(c(1, 0), c(0, 1)), tau = c(0, 0),
#'             eta = cbind(c(-1, 0), c(0, 1)), nu = c(0.01, 0.01), pretrained = pre)
#' fits <- lapply(1:3, function(k) {
#'   cmoe(y ~ x1 + x2 - 1, data = d2, pretrained = pre, K = k, method = "direct")
#' })
#' sapply(fits, BIC)
#' @export
cmoe <- function(formula, data, pretrained, mean = "tanh", K = 1L,
                 method = c("direct", "em"), start = NULL, nstart = 1L,
                 control = cmoe_control(), subset, na.action) {
  cl <- match.call()
  if (missing(formula) || !inherits(formula, "formula")) {
    abort_input("`formula` must be a formula such as `y ~ x1 + x2` or `y ~ x | z`.")
  }
  if (missing(pretrained)) {
    abort_input("`pretrained` is missing: give an `expert_spec()` or a fitted lm.")
  }
  pretrained <- as_expert_spec(pretrained)
  check_choice(mean, "mean", mean_functions)
  check_number(K, "K", lower = 1, upper = 1000, integer = TRUE)
  method <- check_choice(method[1L], "method", c("direct", "em"))
  check_number(nstart, "nstart", lower = 1, upper = 1e4, integer = TRUE)
  control <- as_control(control)
  if (!missing(data) && !is.data.frame(data)) {
    abort_input(sprintf("`data` must be a data frame, not %s.", describe(data)))
  }

  f <- Formula::as.Formula(formula)
  if (length(f)[1L] != 1L || length(f)[2L] > 2L) {
    abort_input("`formula` must have one response and at most two right-hand parts (`y ~ x | z`).")
  }
  mf <- cl[c(1L, match(c("data", "subset", "na.action"), names(cl), 0L))]
  mf[[1L]] <- quote(stats::model.frame)
  mf$formula <- f
  mf$drop.unused.levels <- TRUE
  if (inherits(pretrained, "expert_model")) {
    if (missing(data)) abort_input("`data` is needed when `pretrained` is a fitted model.")
    mf$pretrained_mean <- pretrained_mean(pretrained, NULL, data)
  }
  # missing values are dealt with only if there are any: na.omit() would
  # otherwise copy the whole frame to drop nothing
  na_action <- if (is.null(mf$na.action)) getOption("na.action") else eval(mf$na.action, parent.frame())
  mf$na.action <- quote(stats::na.pass)
  mf <- eval(mf, parent.frame())
  if (!is.null(na_action) && anyNA(mf, recursive = TRUE)) {
    mt <- attr(mf, "terms")
    mf <- match.fun(na_action)(mf)
    attr(mf, "terms") <- mt
  }
  # keep `.` expanded over the fitted data, so that new data is read the same way
  expanded <- attr(attr(mf, "terms"), "Formula_without_dot")
  if (!is.null(expanded)) f <- Formula::as.Formula(expanded)
  design <- model_design(f, mf)
  # observation names are kept once, as the frame holds them (integers for
  # a frame without names of its own), and only when they are not 1..n
  row_names <- attr(mf, "row.names")
  if (is.integer(row_names) && identical(row_names, seq_along(row_names))) row_names <- NULL
  m0 <- if (inherits(pretrained, "expert_model")) {
    as.numeric(mf[["(pretrained_mean)"]])
  } else {
    pretrained_mean(pretrained, design$xe)
  }
  lf0 <- pretrained_logdens(pretrained, design$y, m0)

  prob <- cm_problem(design$y, design$xe, design$xg, lf0, K, mean)
  npar <- K * (prob$pg + prob$q + 2L)
  if (length(design$y) <= npar) {
    abort_input(sprintf(
      "`data` has %d complete observations, but the model has %d parameters; it needs more observations than parameters.",
      length(design$y), npar))
  }
  check_designs(prob)
  theta0 <- if (is.null(start)) NULL else to_internal(prob, check_start(start, prob))
  res <- cmoe_fit(prob, method, theta0, nstart, control)
  res$lr_pretrained <- 2 * (res$loglik - sum(lf0))

  structure(c(list(call = cl, formula = f, terms = attr(mf, "terms"),
                   pretrained = pretrained, mean = mean, K = as.integer(K), method = method,
                   y = design$y, xe = design$xe, xg = design$xg, pretrained_mean = m0,
                   row_names = row_names, xlevels = stats::.getXlevels(attr(mf, "terms"), mf),
                   na.action = attr(mf, "na.action"), control = control),
              finish_fit(prob, res)),
            class = "cmoe")
}

# Response and design matrices of a two-part formula; `arg` names the data
# argument in messages. Missing values pass (na.action has dealt with them).
# Without a gate part the gate design is the expert design's columns other
# than the intercept, given by their numbers (see cm_problem()).
# The designs carry no row names (one string per row would outweigh them).
model_design <- function(f, mf, response = TRUE, arg = "data") {
  xe <- model.matrix(f, data = mf, rhs = 1L)
  attributes(xe) <- list(dim = dim(xe), dimnames = list(NULL, colnames(xe)))
  if (length(f)[2L] == 2L) {
    xg <- model.matrix(f, data = mf, rhs = 2L)
    xg <- xg[, colnames(xg) != "(Intercept)", drop = FALSE]
    attributes(xg) <- list(dim = dim(xg), dimnames = list(NULL, colnames(xg)))
  } else {
    xg <- which(colnames(xe) != "(Intercept)")
  }
  for (x in list(xe, xg)) {
    if (!is.matrix(x)) next
    bad <- colnames(x)[vapply(which(!is.finite(colSums(x))), function(j) {
      any(is.infinite(x[, j]))
    }, logical(1))]
    if (length(bad)) {
      abort_input(sprintf("`%s` has infinite values in %s.", arg,
                          paste0("`", bad, "`", collapse = ", ")), call = NULL)
    }
  }
  if (!response) return(list(xe = xe, xg = xg))
  # the response column itself: model.response() would name it by the rows
  ri <- attr(attr(mf, "terms"), "response")
  y <- if (ri > 0L) mf[[ri]]
  yname <- paste0("`", deparse(stats::formula(f, rhs = 0L)[[2L]]), "`")
  if (!is.numeric(y) || !is.null(dim(y))) {
    abort_input(sprintf("The response %s must be a numeric vector, not %s.", yname, describe(y)),
                call = NULL)
  }
  if (any(!is.finite(y))) abort_input(sprintf("The response %s has infinite values.", yname), call = NULL)
  if (length(y) > 1L && is.infinite(stats::var(y))) {
    abort_input(sprintf("The response %s is too large in magnitude (its variance overflows); rescale it.",
                        yname), call = NULL)
  }
  list(y = as.double(y), xe = xe, xg = xg)
}

# A rank-deficient design leaves coefficients unidentified: say which columns.
# Ranks come from the cross products (no copy of the data): pivoted QR of
# the cross product scaled to unit diagonal, tolerance 1e-10 (a relative
# singular value of about 1e-5 in the design itself). The gate design has
# its intercept, tau. C_crossprod1 gives the cross product of cbind(1, x).
check_designs <- function(prob) {
  ce <- .Call(C_crossprod1, prob$xe)
  check_rank(ce[-1L, -1L, drop = FALSE], colnames(prob$xe), "expert")
  if (is.matrix(prob$xg)) {
    cg <- .Call(C_crossprod1, prob$xg)
    gnames <- colnames(prob$xg)
  } else {
    cg <- ce[c(1L, prob$xg + 1L), c(1L, prob$xg + 1L), drop = FALSE]
    gnames <- colnames(prob$xe)[prob$xg]
  }
  check_rank(cg, c("(tau)", gnames), "gate")
}

check_rank <- function(cross, names, which) {
  if (!ncol(cross)) return(invisible())
  d <- diag(cross)
  s <- ifelse(d > 0, 1 / sqrt(d), 0)
  qx <- qr(cross * outer(s, s), tol = 1e-10)
  bad <- names[c(which(d <= 0), qx$pivot[seq_len(ncol(cross)) > qx$rank])]
  bad <- unique(bad[bad != "(tau)"])
  if (length(bad)) {
    abort_input(sprintf(paste0(
      "`data` gives a rank-deficient %s design: %s %s a linear combination of the other ",
      "columns%s; drop %s."), which, paste0("`", bad, "`", collapse = ", "),
      if (length(bad) > 1L) "are each" else "is",
      if (which == "gate") " (or constant, since tau is the gate's intercept)" else "",
      if (length(bad) > 1L) "them" else "it"), call = NULL)
  }
  invisible()
}

# Starting values given by the user: a cmoe fit or a parameter list.
check_start <- function(start, prob) {
  if (inherits(start, "cmoe")) start <- start$params
  if (!is.list(start) || !all(c("beta", "tau", "eta", "nu") %in% names(start))) {
    abort_input("`start` must be a list with elements `beta`, `tau`, `eta` and `nu`, or a cmoe fit.",
                call = NULL)
  }
  K <- prob$K
  want <- c(beta = prob$pg * K, tau = K, eta = prob$q * K, nu = K)
  for (nm in names(want)) {
    check_finite_numeric(start[[nm]], paste0("start$", nm), want[[nm]])
  }
  if (any(start$nu <= 0)) abort_input("`start$nu` must be positive.", call = NULL)
  start
}

# The workhorse: fit from one or several starts on a problem from cm_problem().
# theta0: internal start or NULL. Returns the best run with the log-likelihood
# of every start.
cmoe_fit <- function(prob, method, theta0, nstart, control) {
  yvar <- stats::var(prob$y)
  if (!is.finite(yvar) || yvar <= 0) yvar <- max(mean(prob$y^2), 1)
  ctl <- c(control$maxit, control$inner_maxit, control$tol, log(control$nu_floor * yvar),
           control$gate_bound)
  first <- if (is.null(theta0)) auto_start(prob, ctl) else theta0
  if (nstart > 1L) {
    se <- column_scale(prob$xe)
    sg <- if (is.matrix(prob$xg)) column_scale(prob$xg) else se[prob$xg]
    scale <- rep(c(sg, 1, se, 1), prob$K)
  }
  # only the best run so far is kept: each holds n x (K + 1) responsibilities
  lls <- rep(NA_real_, nstart)
  res <- NULL
  for (s in seq_len(nstart)) {
    theta <- if (s == 1L) first else perturb_start(prob, first, scale)
    run <- if (method == "em") {
      .Call(C_em, prob$y, prob$xe, prob$xg, prob$lf0, prob$K, prob$mean_code, theta, ctl)
    } else {
      .Call(C_direct, prob$y, prob$xe, prob$xg, prob$lf0, prob$K, prob$mean_code, theta, ctl)
    }
    lls[s] <- run$loglik
    if (is.null(res) || isTRUE(run$loglik > res$loglik) ||
        (is.na(res$loglik) && !is.na(run$loglik))) {
      res <- run
    }
  }
  res$starts <- lls
  res$at_floor <- any(res$theta[lognu_index(prob)] <= ctl[4L] + 1e-8)
  res$gate_runaway <- res$status == 4L
  res
}

lognu_index <- function(prob) {
  m <- prob$pg + prob$q + 2L
  seq(m, prob$K * m, by = m)
}

auto_start <- function(prob, ctl) {
  y <- prob$y
  K <- prob$K
  sy <- stats::sd(y)
  if (!is.finite(sy) || sy <= 0) sy <- 1
  w <- stats::plogis(stats::dnorm(y, mean(y), sy, log = TRUE) - prob$lf0)
  w <- pmin(pmax(w, 0.01), 0.99)
  group <- if (K == 1L) rep(1L, length(y)) else cut(rank(y, ties.method = "first"), K, labels = FALSE)
  resp <- cbind(1 - w, vapply(seq_len(K), function(k) w * (group == k), numeric(length(y))))
  eta <- vapply(seq_len(K), function(k) {
    b <- stats::lm.wfit(prob$xe, y, resp[, k + 1L] + 1e-8)$coefficients
    b[is.na(b)] <- 0
    b
  }, numeric(prob$q))
  theta <- params_to_theta(list(beta = 0, tau = 0, eta = eta, nu = rep(sy^2, K)),
                           prob$pg, prob$q, K)
  # a start needs no exact M-step: a few inner steps suffice
  ctl[2L] <- min(ctl[2L], 5)
  .Call(C_mstep, prob$y, prob$xe, prob$xg, prob$lf0, prob$K, prob$mean_code, theta,
        resp, ctl)
}

# Perturbations in units of 1 / (column root mean square): N(0, 1) for the
# gate and N(0, 0.5^2) for the prompt coefficients as if every covariate had
# unit scale; log nu N(0, 1).
perturb_start <- function(prob, theta, scale) {
  m <- prob$pg + prob$q + 2L
  b <- matrix(theta, m, prob$K)
  sd <- matrix(c(rep(1, prob$pg + 1L), rep(0.5, prob$q), 1), m, prob$K) /
    matrix(scale, m, prob$K)
  as.numeric(b + stats::rnorm(length(b), sd = sd))
}

# Prompts sorted by decreasing share of the data (sum of posterior
# responsibilities resp), so that fits are comparable despite label switching.
canonical_order <- function(prob, resp) {
  if (prob$K == 1L) return(1L)
  order(-colSums(resp)[-1L])
}

# Estimates, standard errors and diagnostics on the user's scale; warns about
# non-convergence, a variance on its floor and a singular information.
finish_fit <- function(prob, res) {
  status_msg <- c("converged", "iteration limit reached", "log-likelihood not finite",
                  "Newton system singular", "gate ran off")
  ord <- canonical_order(prob, res$resp)
  if (identical(ord, seq_len(prob$K)) && !is.null(res$hessian)) {
    # the fitter's last evaluation belongs to the result: no pass over the data
    theta <- res$theta
    ev <- res[c("resp", "score", "hessian")]
  } else {
    theta <- as.numeric(matrix(res$theta, ncol = prob$K)[, ord])
    ev <- cm_loglik(prob, theta, 2L)
  }
  res$resp <- NULL # so that naming ev$resp does not copy it
  params <- to_user(prob, theta)
  p <- length(theta)
  lognu_idx <- lognu_index(prob)
  jac <- rep(1, p)
  jac[lognu_idx] <- exp(theta[lognu_idx])
  coefs <- theta
  coefs[lognu_idx] <- exp(theta[lognu_idx])
  names(coefs) <- prob$names
  info <- -ev$hessian
  vc <- matrix(NA_real_, p, p)
  if (all(is.finite(info)) && all(diag(info) > 0)) {
    # equilibrated, so that covariates on any scale leave the factorisation sound
    s <- 1 / sqrt(diag(info))
    ch <- tryCatch(chol(info * outer(s, s)), error = function(e) NULL)
    if (!is.null(ch)) vc <- chol2inv(ch) * outer(s * jac, s * jac)
  }
  dimnames(vc) <- list(prob$names, prob$names)
  converged <- res$status == 0L
  if (!converged && !res$gate_runaway) {
    warn_fit(sprintf("The %s fit did not converge: %s after %d iterations (relative change %.3g).",
                     "cmoe", status_msg[res$status + 1L], res$iter, res$relchange),
             "contamoe_warning_convergence")
  }
  if (res$at_floor) {
    warn_fit("A prompt variance `nu` reached its floor: the prompt collapsed onto a point; the likelihood is unbounded there.",
             "contamoe_warning_floor")
  }
  if (res$gate_runaway) {
    warn_fit("The gate ran off towards a deterministic split (its linear predictor beyond `gate_bound` at every observation): the likelihood may have no finite maximiser, as when the gate separates the data or a prompt is nearly the pre-trained expert.",
             "contamoe_warning_gate")
  }
  lr <- res$lr_pretrained
  if (!is.null(lr) && is.finite(lr) && lr < stats::qchisq(0.95, p)) {
    warn_fit(sprintf(paste0(
      "The prompt barely improves on the pre-trained expert (likelihood ratio %.3g on %d ",
      "parameters): the data may not tell them apart, and the gate is then not identified."),
      lr, p), "contamoe_warning_identifiability")
  }
  if (anyNA(vc) && is.finite(res$loglik)) {
    warn_fit("The observed information is not positive definite: standard errors are not available.",
             "contamoe_warning_information")
  }
  colnames(ev$resp) <- c("pretrained", if (prob$K == 1L) "prompt" else paste0("prompt", seq_len(prob$K)))
  list(coefficients = coefs, params = params, vcov = vc, loglik = res$loglik,
       gradient = stats::setNames(ev$score / jac, prob$names),
       npar = p, nobs = prob$n,
       converged = converged, status = status_msg[res$status + 1L], iterations = res$iter,
       relchange = res$relchange, loglik_path = res$path, at_floor = res$at_floor,
       gate_runaway = res$gate_runaway, lr_pretrained = res$lr_pretrained,
       responsibilities = ev$resp, starts = res$starts)
}
