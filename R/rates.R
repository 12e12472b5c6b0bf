# Monte Carlo convergence-rate studies: rate_study(), rate_slopes() and the
# log-log plot.

#' Monte Carlo study of parameter estimation rates
#'
#' Fits the model in every cell of a grid of sample sizes and replications,
#' each on fresh data from the setting, and records the parameter errors
#' ([param_errors()]), the setting's loss ([cmoe_loss()]), the
#' log-likelihood and diagnostics.
#'
#' @section Parallel and reproducible: cells run through
#'   [future.apply::future_lapply()] with `future.seed = seed`, so each cell
#'   has its own L'Ecuyer-CMRG random stream and the result is identical under
#'   `future::plan(sequential)`, `plan(multisession)` or any other backend.
#'   On a cluster, choose a backend and run the same call, e.g. with
#'   \pkg{future.batchtools}:
#'   ```
#'   future::plan(future.batchtools::batchtools_slurm, resources = list(walltime = 3600))
#'   study <- rate_study("nondist_i", n = round(10^seq(3, 5, length.out = 20)), reps = 40)
#'   ```
#'   Progress is reported through \pkg{progressr}: wrap the call in
#'   `progressr::with_progress()` (or set `progressr::handlers(global = TRUE)`)
#'   to see a progress bar.
#'
#' @section Degenerate fits: a fit is flagged `degenerate` when it did not
#'   converge (iteration cap, non-finite log-likelihood or a singular Newton
#'   system), when the prompt variance ends on its floor (`at_floor`) or when
#'   the gate runs off (`gate_runaway`: a gate coefficient beyond
#'   `control$gate_bound`, see [cmoe_control()], as happens when the
#'   likelihood has no finite maximiser; \eqn{|e^{\hat\tau} - e^{\tau^*}|}
#'   is then typically infinite). A fit that fails with an error is recorded with its
#'   message in `error` and missing errors; the study goes on.
#'
#' @param setting Names of [paper_setting()]s, or a function of `n` returning
#'   a `cmoe_setting` (for settings of your own).
#' @param n Sample sizes.
#' @param reps Replications per sample size.
#' @param method Fitting method, `"direct"` (default) or `"em"`.
#' @param start `"truth"` (the paper's choice: start at the true parameters) or
#'   `"auto"` (the automatic start of [cmoe()]). When more prompts are fitted
#'   than are true, the start from the truth splits each true prompt into
#'   copies that share its weight (\eqn{\tau - \log m} for \eqn{m} copies),
#'   the extra copies' \eqn{\eta} perturbed by \eqn{N(0, 0.1^2)} from the
#'   cell's random stream so that they can separate.
#' @param K Number of prompts to fit; by default as many as the setting's
#'   truth has. With more than one prompt on either side, the errors are
#'   measured by the Voronoi loss (`loss_type = "voronoi"`, see
#'   [cmoe_loss()]) and the per-parameter columns are `NA`.
#' @param seed Integer seed of the study.
#' @param control A [cmoe_control()].
#' @param ... Passed to [paper_setting()] (`perturbation`, `nu0`).
#' @return A data frame of class `cmoe_rate_study`, one row per fit: `setting`,
#'   `n`, `rep`, the errors `beta`, `exp_tau`, `tau`, `eta`, `nu`, the setting's
#'   `loss` value and its `loss_type`, `loglik`, `iterations`, `converged`,
#'   `at_floor`, `gate_runaway`, `degenerate`, `error` and `seconds`.
#' @examples
#' study <- rate_study("distinguishable", n = c(500, 1000, 2000), reps = 2)
#' rate_slopes(study)
#' @export
rate_study <- function(setting, n, reps, method = c("direct", "em"), start = c("truth", "auto"),
                       seed = 1L, control = cmoe_control(), K = NULL, ...) {
  makers <- setting_makers(setting, ...)
  n <- check_finite_numeric(n, "n")
  if (!length(n) || any(n < 10) || any(n != round(n))) {
    abort_input("`n` must be whole numbers of at least 10.")
  }
  check_number(reps, "reps", lower = 1, integer = TRUE)
  method <- check_choice(method[1L], "method", c("direct", "em"))
  start <- check_choice(start[1L], "start", c("truth", "auto"))
  check_number(seed, "seed", integer = TRUE)
  control <- as_control(control)
  true_k <- length(makers[[1L]](max(n))$truth$tau)
  if (is.null(K)) K <- true_k
  check_number(K, "K", lower = 1, upper = 1000, integer = TRUE)

  cells <- expand.grid(rep = seq_len(reps), n = sort(unique(n)), setting = names(makers),
                       stringsAsFactors = FALSE)
  progress <- progressr::progressor(steps = nrow(cells))
  rows <- future.apply::future_lapply(seq_len(nrow(cells)), function(i) {
    cell <- cells[i, ]
    row <- study_cell(makers[[cell$setting]](cell$n), cell, method, start, control, K)
    progress()
    row
  }, future.seed = as.integer(seed), future.packages = "contamoe",
  # small chunks keep the workers balanced (cells differ a lot in cost); the
  # random streams are per cell, so chunking never changes the result
  future.chunk.size = 8L)
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  meta <- lapply(makers, function(make) {
    s <- make(max(n))
    several <- K > 1L || length(s$truth$tau) > 1L
    list(theory = if (several) NULL else s$theory, paper = if (several) NULL else s$paper,
         loss = if (several) "voronoi" else s$loss)
  })
  structure(out, class = c("cmoe_rate_study", "data.frame"), settings = meta,
            method = method, start = start, K = as.integer(K))
}

# Named list of functions n -> cmoe_setting.
setting_makers <- function(setting, ...) {
  if (is.function(setting)) {
    s <- setting(1000)
    if (!inherits(s, "cmoe_setting")) {
      abort_input("`setting` must return a `cmoe_setting` (see `paper_setting()`).", call = NULL)
    }
    return(stats::setNames(list(setting), s$name))
  }
  if (!is.character(setting) || !length(setting) || !all(setting %in% setting_names)) {
    abort_input(sprintf("`setting` must be names among %s, or a function of n.",
                        paste0('"', setting_names, '"', collapse = ", ")), call = NULL)
  }
  extra <- list(...)
  stats::setNames(lapply(unique(setting), function(nm) {
    force(nm)
    function(n) do.call(paper_setting, c(list(nm, n), extra))
  }), unique(setting))
}

# Simulate one data set from setting s and fit K prompts; a one-row data
# frame. An error anywhere (simulation or fit) is recorded in the row.
study_cell <- function(s, cell, method, start, control, K) {
  truth <- as_params(s$truth, "truth", one = FALSE)
  several <- K > 1L || length(truth$tau) > 1L
  loss_type <- if (several) "voronoi" else s$loss
  row <- data.frame(setting = s$name, n = cell$n, rep = cell$rep, beta = NA_real_,
                    exp_tau = NA_real_, tau = NA_real_, eta = NA_real_, nu = NA_real_,
                    loss = NA_real_, loss_type = loss_type, loglik = NA_real_,
                    iterations = NA_integer_, converged = FALSE, at_floor = NA,
                    gate_runaway = NA, degenerate = TRUE, error = NA_character_,
                    seconds = NA_real_, stringsAsFactors = FALSE)
  t0 <- proc.time()[["elapsed"]]
  res <- tryCatch({
    x <- s$draw_x(cell$n)
    obj <- list(params = truth, mean = s$mean, K = length(truth$tau), pretrained = s$pretrained)
    m0 <- pretrained_mean(s$pretrained, x)
    y <- draw_responses(obj, x, x, m0)$y
    prob <- cm_problem(y, x, x, pretrained_logdens(s$pretrained, y, m0), K, s$mean)
    theta0 <- if (start == "truth") to_internal(prob, split_truth(truth, K))
    t0 <- proc.time()[["elapsed"]]
    list(prob = prob, fit = cmoe_fit(prob, method, theta0, 1L, control))
  }, error = function(e) e)
  row$seconds <- proc.time()[["elapsed"]] - t0
  if (inherits(res, "error")) {
    row$error <- conditionMessage(res)
    return(row)
  }
  fit <- res$fit
  est <- to_user(res$prob, fit$theta)
  if (several) {
    row$loss <- as.numeric(voronoi_loss(est, truth))
  } else {
    rstar <- if (s$loss == "D2") distance_to_pretrained(s$truth, s$pretrained) else 0
    err <- losses(est, truth, rstar)
    row[c("beta", "exp_tau", "tau", "eta", "nu")] <- as.list(err[c("beta", "exp_tau", "tau", "eta", "nu")])
    row$loss <- err[[s$loss]]
  }
  row$loglik <- fit$loglik
  row$iterations <- fit$iter
  row$converged <- fit$status == 0L
  row$at_floor <- fit$at_floor
  row$gate_runaway <- fit$gate_runaway
  row$degenerate <- !row$converged || row$at_floor || row$gate_runaway
  row
}

# Starting values for K prompts from the truth: the first K true prompts, or
# each true prompt split into copies sharing its weight, the extra copies'
# eta perturbed so that they can separate.
split_truth <- function(truth, K) {
  k_true <- length(truth$tau)
  src <- rep_len(seq_len(k_true), K)
  copies <- tabulate(src, k_true)
  eta <- truth$eta[, src, drop = FALSE]
  extra <- duplicated(src)
  eta[, extra] <- eta[, extra] + stats::rnorm(sum(extra) * nrow(eta), sd = 0.1)
  list(beta = truth$beta[, src, drop = FALSE], tau = truth$tau[src] - log(copies[src]),
       eta = eta, nu = truth$nu[src])
}

rate_parameters <- c("beta", "exp_tau", "eta", "nu")

#' Fitted convergence rates of a study
#'
#' For each setting and parameter, regresses the log of the mean error over
#' replications on \eqn{\log n} by least squares; the slope estimates the rate
#' exponent. The confidence interval is the t interval of that regression
#' slope (on the number of sample sizes minus 2 degrees of freedom), which
#' treats the mean errors as independent observations around the line.
#'
#' Errors that are not finite (a runaway gate makes
#' \eqn{|e^{\hat\tau} - e^{\tau^*}|} overflow) cannot enter a mean and are
#' always left out; `fits` says how many errors each slope rests on.
#'
#' @param study A [rate_study()] result.
#' @param degenerate `"include"` all converged-or-not fits with finite errors
#'   (as the paper's averages presumably did), or `"exclude"` the fits flagged
#'   degenerate.
#' @param parameters Error columns to fit; by default the paper's four plus
#'   the setting's loss.
#' @param level Confidence level.
#' @return A data frame: `setting`, `parameter`, `slope`, `lower`, `upper`,
#'   `theory` and `paper` (the slopes of the theory and of the paper, where
#'   known), `fits` (finite errors used), `degenerate_fits` (fits flagged
#'   degenerate in the study) and `degenerate` (whether they were included).
#' @examples
#' study <- rate_study("distinguishable", n = c(500, 1000, 2000), reps = 2)
#' rate_slopes(study, degenerate = "exclude")
#' @export
rate_slopes <- function(study, degenerate = c("include", "exclude"),
                        parameters = c(rate_parameters, "loss"), level = 0.95) {
  if (!inherits(study, "cmoe_rate_study")) abort_input("`study` must come from `rate_study()`.")
  degenerate <- check_choice(degenerate[1L], "degenerate", c("include", "exclude"))
  if (!is.character(parameters) || !all(parameters %in% c(rate_parameters, "tau", "loss"))) {
    abort_input("`parameters` must be among \"beta\", \"exp_tau\", \"tau\", \"eta\", \"nu\", \"loss\".")
  }
  check_number(level, "level", lower = 0, upper = 1, strict_lower = TRUE)
  meta <- attr(study, "settings")
  rows <- list()
  for (s in unique(study$setting)) {
    sub <- study[study$setting == s, ]
    used <- sub[is.na(sub$error) & (degenerate == "include" | !sub$degenerate), ]
    for (p in parameters) {
      means <- mean_errors(used, p)
      fit_ok <- nrow(means) >= 3L && all(means$mean > 0)
      cf <- if (fit_ok) {
        lf <- stats::lm(log(mean) ~ log(n), data = means)
        c(stats::coef(lf)[[2L]], stats::confint(lf, 2L, level = level))
      } else rep(NA_real_, 3L)
      ref <- function(v) if (p %in% names(v)) v[[p]] else NA_real_
      rows[[length(rows) + 1L]] <- data.frame(
        setting = s, parameter = p, slope = cf[1L], lower = cf[2L], upper = cf[3L],
        theory = ref(meta[[s]]$theory), paper = ref(meta[[s]]$paper),
        fits = sum(is.finite(used[[p]])),
        degenerate_fits = sum(sub$degenerate), degenerate = degenerate,
        stringsAsFactors = FALSE)
    }
  }
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  out
}

# Mean error and its standard error per sample size (finite errors only).
mean_errors <- function(study, parameter) {
  v <- study[[parameter]]
  ok <- is.finite(v)
  if (!any(ok)) return(data.frame(n = numeric(), mean = numeric(), se = numeric()))
  agg <- function(f) tapply(v[ok], study$n[ok], f)
  data.frame(n = as.numeric(names(agg(length))), mean = as.numeric(agg(mean)),
             se = as.numeric(agg(function(e) if (length(e) > 1L) stats::sd(e) / sqrt(length(e)) else 0)))
}

#' @export
print.cmoe_rate_study <- function(x, ...) {
  cat(sprintf("Rate study: %d fits (%s, start %s), %d degenerate, %d failed\n", nrow(x),
              attr(x, "method"), attr(x, "start"), sum(x$degenerate), sum(!is.na(x$error))))
  cat("settings:", paste(unique(x$setting), collapse = ", "), "\n")
  cat("n:", paste(format(sort(unique(x$n))), collapse = " "), "\n")
  invisible(x)
}

#' Plot a rate study on log-log axes
#'
#' One panel per parameter for one setting: the mean error at each sample size
#' with error bars of \eqn{\pm 2} standard errors over replications, the
#' least-squares line of [rate_slopes()] with its slope in the legend and,
#' optionally, a dashed line with the theory's slope through the centre of the
#' points.
#'
#' @param x A [rate_study()] result.
#' @param setting Which setting to draw; the first by default.
#' @param parameters Error columns to draw.
#' @param theory Draw the theoretical slope?
#' @param degenerate As in [rate_slopes()].
#' @param ... Unused.
#' @return `x`, invisibly.
#' @examples
#' study <- rate_study("distinguishable", n = c(500, 1000, 2000), reps = 2)
#' plot(study)
#' @export
plot.cmoe_rate_study <- function(x, setting = x$setting[1L], parameters = rate_parameters,
                                 theory = TRUE, degenerate = c("include", "exclude"), ...) {
  check_choice(setting, "setting", unique(x$setting))
  degenerate <- check_choice(degenerate[1L], "degenerate", c("include", "exclude"))
  slopes <- rate_slopes(x[x$setting == setting, ], degenerate, parameters)
  sub <- x[x$setting == setting & is.na(x$error) & (degenerate == "include" | !x$degenerate), ]
  labels <- c(beta = "||beta - beta*||", exp_tau = "|exp(tau) - exp(tau*)|",
              tau = "|tau - tau*|", eta = "||eta - eta*||", nu = "|nu - nu*|", loss = "loss")
  old <- graphics::par(mfrow = grDevices::n2mfrow(length(parameters)), mar = c(4, 4, 2.5, 1))
  on.exit(graphics::par(old))
  for (p in parameters) {
    m <- mean_errors(sub, p)
    if (!nrow(m)) next
    lo <- pmax(m$mean - 2 * m$se, m$mean / 10)
    hi <- m$mean + 2 * m$se
    graphics::plot(m$n, m$mean, log = "xy", ylim = range(lo, hi), pch = 19, xlab = "n",
                   ylab = "mean error", main = sprintf("%s: %s", setting, labels[[p]]))
    bar <- hi > lo * (1 + 1e-9)
    graphics::arrows(m$n[bar], lo[bar], m$n[bar], hi[bar], angle = 90, code = 3, length = 0.02)
    sl <- slopes[slopes$parameter == p, ]
    legend <- sprintf("fitted %.2f [%.2f, %.2f]", sl$slope, sl$lower, sl$upper)
    lty <- 1
    if (is.finite(sl$slope)) {
      lf <- stats::lm(log(mean) ~ log(n), data = m)
      graphics::lines(m$n, exp(stats::fitted(lf)), col = "red3", lwd = 2)
    }
    if (theory && is.finite(sl$theory)) {
      centre <- c(mean(log(m$n)), mean(log(m$mean)))
      graphics::lines(m$n, exp(centre[2L] + sl$theory * (log(m$n) - centre[1L])), lty = 2,
                      col = "grey30")
      legend <- c(legend, sprintf("theory %.3g", sl$theory))
      lty <- c(1, 2)
    }
    graphics::legend("bottomleft", legend, lty = lty, col = c("red3", "grey30")[seq_along(lty)],
                     bty = "n", cex = 0.8)
  }
  invisible(x)
}
