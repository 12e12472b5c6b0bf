# Classed conditions and argument checks shared by the exported functions.

abort_input <- function(message, call = sys.call(-1)) {
  stop(errorCondition(message,
    class = c("contamoe_error_input", "contamoe_error"),
    call = call
  ))
}

warn_fit <- function(message, class) {
  warning(warningCondition(message,
    class = c(class, "contamoe_warning")
  ))
}

check_number <- function(x, arg, lower = -Inf, upper = Inf, integer = FALSE,
                         strict_lower = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) &&
    (if (strict_lower) x > lower else x >= lower) && x <= upper &&
    (!integer || x == round(x))
  if (!ok) {
    what <- if (integer) "a whole number" else "a finite number"
    range <- if (is.finite(lower) || is.finite(upper)) {
      sprintf(" %s %s%s", if (strict_lower) "greater than" else "at least",
              format(lower), if (is.finite(upper)) sprintf(" and at most %s", format(upper)) else "")
    } else ""
    abort_input(sprintf("`%s` must be %s%s, not %s.", arg, what, range, describe(x)),
                call = sys.call(-1))
  }
  x
}

check_choice <- function(x, arg, choices) {
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices) {
    abort_input(sprintf("`%s` must be one of %s, not %s.", arg,
                        paste0('"', choices, '"', collapse = ", "), describe(x)),
                call = sys.call(-1))
  }
  x
}

check_finite_numeric <- function(x, arg, len = NULL) {
  if (!is.numeric(x) || (!is.null(len) && length(x) != len) || anyNA(x) || any(!is.finite(x))) {
    want <- if (is.null(len)) "finite numbers" else sprintf("%d finite number%s", len, if (len == 1) "" else "s")
    abort_input(sprintf("`%s` must be %s, not %s.", arg, want, describe(x)), call = sys.call(-1))
  }
  as.numeric(x)
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.numeric(x) && length(x) == 1L) return(format(x))
  if (is.character(x) && length(x) == 1L) return(sprintf('"%s"', x))
  sprintf("a %s of length %d", class(x)[1L], length(x))
}
