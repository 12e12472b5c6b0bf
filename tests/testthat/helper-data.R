# Shared fixtures: data from the paper's distinguishable setting (DESIGN
# section 4) and variants, and a problem object for the internal functions.

paper_data <- function(n, seed = 1, d = 8, family = "laplace", mean = "tanh",
                       eta = NULL, nu = 0.001, df = NULL, tau = 1) {
  set.seed(seed)
  x <- matrix(stats::rnorm(n * d), n, d, dimnames = list(NULL, paste0("x", seq_len(d))))
  e1 <- c(1, rep(0, d - 1))
  pre <- expert_spec(family, mean, eta = e1, nu = 0.001, df = df)
  truth <- list(beta = rep(1 / sqrt(d), d), tau = tau, eta = if (is.null(eta)) -e1 else eta,
                nu = nu)
  dat <- rcmoe(x, truth$beta, truth$tau, truth$eta, truth$nu, pretrained = pre, mean = mean)
  list(data = dat, pretrained = pre, truth = truth, x = x)
}

# The internal problem for a data set built by paper_data().
paper_problem <- function(pd, K = 1L, mean = "tanh") {
  x <- pd$x
  m0 <- contamoe:::pretrained_mean(pd$pretrained, x)
  lf0 <- contamoe:::pretrained_logdens(pd$pretrained, pd$data$y, m0)
  contamoe:::cm_problem(pd$data$y, x, x, lf0, K, mean)
}
