#' contamoe: softmax-contaminated mixture of experts
#'
#' Fits the softmax-contaminated mixture of experts of Yan, Nguyen, Le,
#' Akbarian, Ho and Rinaldo (2025): a fixed, known pre-trained expert
#' \eqn{f_0} mixed through a covariate-dependent softmax gate with trainable
#' Gaussian prompt experts,
#' \deqn{p(y \mid x) = (1 - s(x)) f_0(y \mid h_0(x, \eta_0), \nu_0) + s(x)
#'   N(y \mid h(x, \eta), \nu), \quad s(x) = \frac{\exp(\beta^\top x + \tau)}{1 + \exp(\beta^\top x + \tau)}.}
#' Start with [cmoe()] and [expert_spec()]; draw data with [rcmoe()].
#'
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and Rinaldo,
#'   A. (2025). On minimax estimation of parameters in softmax-contaminated
#'   mixture of experts. *NeurIPS 2025*. arXiv:2505.18455.
#' @keywords internal
#' @useDynLib contamoe, .registration = TRUE, .fixes = "C_"
#' @importFrom stats coef confint fitted logLik model.frame model.matrix model.response
#'   nobs predict residuals vcov
#' @importFrom Formula as.Formula
"_PACKAGE"
