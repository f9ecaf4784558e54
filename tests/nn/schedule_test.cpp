// Learning-rate schedules at chosen epochs and steps.
#include "nn/schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "tensor/check.h"

namespace remix::nn {
namespace {

TEST(CosineSchedule, FollowsHalfACosinePerEpoch) {
  const CosineSchedule s(0.1, 200);
  EXPECT_DOUBLE_EQ(s.lr(0, 0, 391), 0.1);
  EXPECT_NEAR(s.lr(100, 5, 391), 0.05, 1e-12);
  EXPECT_NEAR(s.lr(50, 0, 391), 0.05 * (1 + std::cos(std::numbers::pi / 4)), 1e-12);
  EXPECT_NEAR(s.lr(199, 390, 391), 0.05 * (1 + std::cos(std::numbers::pi * 199 / 200)), 1e-12);
  EXPECT_EQ(s.lr(7, 0, 10), s.lr(7, 9, 10));  // constant within an epoch
}

TEST(MultiStepSchedule, DividesByTenAtEachMilestone) {
  const MultiStepSchedule s(0.25, {150, 225});
  EXPECT_DOUBLE_EQ(s.lr(0, 0, 1), 0.25);
  EXPECT_DOUBLE_EQ(s.lr(149, 0, 1), 0.25);
  EXPECT_NEAR(s.lr(150, 0, 1), 0.025, 1e-15);
  EXPECT_NEAR(s.lr(224, 0, 1), 0.025, 1e-15);
  EXPECT_NEAR(s.lr(225, 0, 1), 0.0025, 1e-15);
  EXPECT_NEAR(MultiStepSchedule(1.0, {2}, 0.5).lr(3, 0, 1), 0.5, 1e-15);
  EXPECT_THROW(MultiStepSchedule(0.1, {20, 10}), Error);
}

TEST(WarmupSchedule, RisesLinearlyPerIterationThenHandsOver) {
  auto main = std::make_shared<CosineSchedule>(0.2, 10);
  const WarmupSchedule s(main, 2, 0.2);  // 2 epochs of 5 steps: 10 warm-up iterations
  EXPECT_NEAR(s.lr(0, 0, 5), 0.02, 1e-15);
  EXPECT_NEAR(s.lr(0, 4, 5), 0.10, 1e-15);
  EXPECT_NEAR(s.lr(1, 4, 5), 0.20, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(2, 0, 5), main->lr(2, 0, 5));
  EXPECT_DOUBLE_EQ(s.lr(9, 3, 5), main->lr(9, 3, 5));
}

TEST(Schedules, RejectPositionsOutsideTheEpoch) {
  const CosineSchedule s(0.1, 10);
  EXPECT_THROW(s.lr(-1, 0, 5), Error);
  EXPECT_THROW(s.lr(0, 5, 5), Error);
  EXPECT_THROW(CosineSchedule(0.1, 0), Error);
}

}  // namespace
}  // namespace remix::nn
