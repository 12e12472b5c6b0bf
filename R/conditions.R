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
                         strict_lower = FALSE, strict_upper = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) &&
    (if (strict_lower) x > lower else x >= lower) &&
    (if (strict_upper) x < upper else x <= upper) &&
    (!integer || x == round(x))
  if (!ok) {
    what <- if (integer) "a whole number" else "a finite number"
    bounds <- c(
      if (is.finite(lower)) paste(if (strict_lower) "greater than" else "at least", format(lower)),
      if (is.finite(upper)) paste(if (strict_upper) "less than" else "at most", format(upper))
    )
    range <- if (length(bounds)) paste0(" ", paste(bounds, collapse = " and ")) else ""
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

# What a user gave, in words: values for scalars, type and shape otherwise,
# and whether numbers hold NA or infinite values.
describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.numeric(x) && length(x) == 1L) return(format(x))
  if (is.character(x) && length(x) == 1L) return(sprintf('"%s"', x))
  if (is.data.frame(x)) return(sprintf("a data frame with %d rows", nrow(x)))
  if (is.function(x)) return("a function")
  if (is.factor(x)) return(sprintf("a factor of length %d", length(x)))
  article <- function(word) paste(if (grepl("^[aeiou]", word)) "an" else "a", word)
  shape <- if (is.matrix(x)) {
    sprintf("%s matrix with %d rows and %d columns", article(typeof(x)), nrow(x), ncol(x))
  } else if (is.atomic(x)) {
    sprintf("%s vector of length %d", article(typeof(x)), length(x))
  } else {
    sprintf("an object of class %s", class(x)[1L])
  }
  if (is.numeric(x)) {
    if (anyNA(x)) shape <- paste(shape, "with missing values (NA)")
    else if (any(is.infinite(x))) shape <- paste(shape, "with infinite values")
  }
  shape
}
