// Exercise 4, a worked solution.
#include "exercises/polynomial_schedule.h"

#include <algorithm>
#include <cmath>

#include "tensor/check.h"

namespace remix::exercises {

PolynomialSchedule::PolynomialSchedule(double base_lr, int64_t epochs, double power)
    : base_lr_(base_lr), epochs_(epochs), power_(power) {
  REMIX_CHECK(base_lr > 0 && epochs > 0 && power > 0,
              "PolynomialSchedule: expected a positive rate, epochs and power, got {}, {}, {}",
              base_lr, epochs, power);
}

double PolynomialSchedule::lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const {
  const double done = static_cast<double>(epoch * steps_per_epoch + step);
  const double t = std::clamp(done / static_cast<double>(epochs_ * steps_per_epoch), 0.0, 1.0);
  return base_lr_ * std::pow(1 - t, power_);
}

}  // namespace remix::exercises
