// Exercise 4 (docs/EXERCISES.md): a new learning-rate schedule, polynomial decay per iteration:
//   t = (epoch * steps_per_epoch + step) / (epochs * steps_per_epoch)
//   lr = base * (1 - t)^power        (power 1: linear to 0; 0.9 as in semantic-segmentation recipes)
// It plugs into the training loop as the others in nn/schedule.h (and inside WarmupSchedule).
#pragma once

#include "nn/schedule.h"

namespace remix::exercises {

class PolynomialSchedule : public nn::LrSchedule {
 public:
  PolynomialSchedule(double base_lr, int64_t epochs, double power);
  double lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const override;

 private:
  double base_lr_;
  int64_t epochs_;
  double power_;
};

}  // namespace remix::exercises
