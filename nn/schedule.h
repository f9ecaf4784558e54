// Learning-rate schedules: the rate for iteration `step` (0 .. steps_per_epoch - 1) of epoch
// `epoch` (counted from 0). The training loop calls optimizer.set_lr(schedule.lr(...)) before
// each step; per-epoch schedules ignore `step`.
//
//   CosineSchedule     lr_e = 0.5 * base * (1 + cos(pi * e / E)), E = number of epochs
//                      (per epoch, as the reference training script).
//   MultiStepSchedule  lr_e = base * gamma^(number of milestones <= e)
//                      (torch.optim.lr_scheduler.MultiStepLR stepped once per epoch).
//   WarmupSchedule     linear warm-up over the first W epochs, per iteration: at global
//                      iteration i < W * steps_per_epoch, lr = base * (i + 1) / (W *
//                      steps_per_epoch) (from base / steps to base); afterwards the wrapped
//                      schedule, evaluated at the same (absolute) epoch.
#pragma once

#include <memory>
#include <vector>

namespace remix::nn {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual double lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const = 0;
};

class CosineSchedule : public LrSchedule {
 public:
  CosineSchedule(double base_lr, int64_t epochs);
  double lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const override;

 private:
  double base_lr_;
  int64_t epochs_;
};

class MultiStepSchedule : public LrSchedule {
 public:
  MultiStepSchedule(double base_lr, std::vector<int64_t> milestones, double gamma = 0.1);
  double lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const override;

 private:
  double base_lr_;
  std::vector<int64_t> milestones_;
  double gamma_;
};

class WarmupSchedule : public LrSchedule {
 public:
  // `base_lr` is the rate reached at the end of the warm-up (normally the main schedule's base).
  WarmupSchedule(std::shared_ptr<const LrSchedule> main, int64_t warmup_epochs, double base_lr);
  double lr(int64_t epoch, int64_t step, int64_t steps_per_epoch) const override;

 private:
  std::shared_ptr<const LrSchedule> main_;
  int64_t warmup_epochs_;
  double base_lr_;
};

}  // namespace remix::nn
