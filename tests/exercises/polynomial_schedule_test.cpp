// Exercise 4: the polynomial schedule follows its formula per iteration and composes with warm-up.
#include "exercises/polynomial_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "tensor/check.h"

namespace remix::exercises {
namespace {

TEST(PolynomialScheduleExercise, FollowsItsFormulaPerIteration) {
  const PolynomialSchedule linear(0.1, 10, 1.0);
  EXPECT_DOUBLE_EQ(linear.lr(0, 0, 50), 0.1);
  EXPECT_NEAR(linear.lr(5, 0, 50), 0.05, 1e-12);
  EXPECT_NEAR(linear.lr(2, 25, 50), 0.1 * (1 - 125.0 / 500), 1e-12);
  EXPECT_DOUBLE_EQ(linear.lr(10, 0, 50), 0.0);
  const PolynomialSchedule curved(0.2, 4, 0.9);
  EXPECT_NEAR(curved.lr(1, 10, 20), 0.2 * std::pow(1 - 30.0 / 80, 0.9), 1e-12);
  EXPECT_THROW(PolynomialSchedule(0.1, 0, 1.0), Error);
}

TEST(PolynomialScheduleExercise, NeverRisesAndWorksInsideTheWarmUp) {
  auto poly = std::make_shared<const PolynomialSchedule>(0.1, 6, 2.0);
  double previous = 1;
  for (int64_t e = 0; e < 6; ++e)
    for (int64_t s = 0; s < 7; ++s) {
      EXPECT_LE(poly->lr(e, s, 7), previous);
      previous = poly->lr(e, s, 7);
    }
  const nn::WarmupSchedule warm(poly, 1, 0.1);
  EXPECT_NEAR(warm.lr(0, 0, 10), 0.01, 1e-12);        // warm-up: base * 1 / 10
  EXPECT_DOUBLE_EQ(warm.lr(3, 2, 10), poly->lr(3, 2, 10));  // then the schedule itself
}

}  // namespace
}  // namespace remix::exercises
