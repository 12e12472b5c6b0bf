library(testthat)
library(contamoe)

test_check("contamoe")
