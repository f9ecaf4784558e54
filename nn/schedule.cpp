// Learning-rate schedules (formulas in schedule.h).
#include "nn/schedule.h"

#include <cmath>
#include <numbers>

#include "tensor/check.h"

namespace remix::nn {

namespace {

void check_position(int64_t epoch, int64_t step, int64_t steps_per_epoch) {
  REMIX_CHECK(epoch >= 0 && steps_per_epoch > 0 && step >= 0 && step < steps_per_epoch,
              "learning-rate schedule: expected epoch >= 0 and 0 <= step < steps_per_epoch, got "
              "epoch {} step {} of {}",
              epoch, step, steps_per_epoch);
}

}  // namespace

CosineSchedule::CosineSchedule(double base_lr, int64_t epochs)
    : base_lr_(base_lr), epochs_(epochs) {
  REMIX_CHECK(base_lr >= 0 && epochs > 0,
              "CosineSchedule: expected base lr >= 0 and epochs > 0, "
              "got {} and {}",
              base_lr, epochs);
}

double CosineSchedule::lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const {
  check_position(epoch, step, steps_per_epoch);
  const double progress = static_cast<double>(epoch) / static_cast<double>(epochs_);
  return 0.5 * base_lr_ * (1.0 + std::cos(std::numbers::pi * progress));
}

MultiStepSchedule::MultiStepSchedule(double base_lr, std::vector<int64_t> milestones, double gamma)
    : base_lr_(base_lr), milestones_(std::move(milestones)), gamma_(gamma) {
  REMIX_CHECK(base_lr >= 0 && gamma > 0,
              "MultiStepSchedule: expected base lr >= 0 and gamma > 0, "
              "got {} and {}",
              base_lr, gamma);
  for (size_t i = 0; i < milestones_.size(); ++i)
    REMIX_CHECK(milestones_[i] > 0 && (i == 0 || milestones_[i] > milestones_[i - 1]),
                "MultiStepSchedule: milestones must be positive and increasing, got {}",
                fmt::join(milestones_, ", "));
}

double MultiStepSchedule::lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const {
  check_position(epoch, step, steps_per_epoch);
  double lr = base_lr_;
  for (int64_t m : milestones_)
    if (m <= epoch) lr *= gamma_;
  return lr;
}

WarmupSchedule::WarmupSchedule(std::shared_ptr<const LrSchedule> main, int64_t warmup_epochs,
                               double base_lr)
    : main_(std::move(main)), warmup_epochs_(warmup_epochs), base_lr_(base_lr) {
  REMIX_CHECK(main_ != nullptr && warmup_epochs >= 0 && base_lr >= 0,
              "WarmupSchedule: expected a main schedule, warm-up epochs >= 0 and base lr >= 0");
}

double WarmupSchedule::lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const {
  check_position(epoch, step, steps_per_epoch);
  if (epoch >= warmup_epochs_) return main_->lr(epoch, step, steps_per_epoch);
  const int64_t warmup_steps = warmup_epochs_ * steps_per_epoch;
  const int64_t iteration = epoch * steps_per_epoch + step;
  return base_lr_ * static_cast<double>(iteration + 1) / static_cast<double>(warmup_steps);
}

}  // namespace remix::nn
