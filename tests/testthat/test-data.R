# The stored full-scale study.

test_that("paper_study holds the paper's full grid", {
  expect_s3_class(paper_study, "cmoe_rate_study")
  expect_equal(nrow(paper_study), 4L * 20L * 40L)
  expect_setequal(unique(paper_study$setting),
                  c("distinguishable", "nondist_i", "nondist_ii", "nondist_ii_printed"))
  expect_equal(range(paper_study$n), c(1000, 1e5))
  expect_length(unique(paper_study$n), 20L)
  expect_true(all(table(paper_study$setting, paper_study$n) == 40L))
  expect_true(all(is.na(paper_study$error)))
  sl <- rate_slopes(paper_study, parameters = c("beta", "exp_tau", "eta", "nu"))
  d <- sl[sl$setting == "distinguishable", ]
  expect_true(all(abs(d$slope + 0.5) < 0.1))
})
