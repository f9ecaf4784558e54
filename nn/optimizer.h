// Optimizers: SGD (torch.optim.SGD) and AdamW (torch.optim.AdamW) over named parameters.
//
// The learning rate lives in a one-element f32 tensor on the parameters' device (lr_tensor()),
// which the update kernels read, so that a captured CUDA graph of the training step follows
// set_lr(). step(skip_if) forwards an optional device flag (one f32 element, nonzero = skip) to
// every update: the GradScaler drops a step with non-finite fp16 gradients this way without the
// host reading the flag. Parameters without a gradient are left alone, as in PyTorch.
//
// State for checkpoints (state_dict / load_state_dict) holds named tensors, keyed by the
// parameter's name:  SGD "momentum_buffer.<param>";  AdamW "exp_avg.<param>",
// "exp_avg_sq.<param>" and "step.<param>" (a one-element f32 count, as PyTorch keeps it). Like
// PyTorch, a parameter gets state at its first update, so state may cover only some parameters.
//
// Each parameter's count of applied updates is a one-element f32 tensor on its device (PyTorch's
// state['step']), advanced by the update kernels themselves. So a step dropped on the device by
// skip_if leaves every parameter's state as it was, count included, as PyTorch's GradScaler does
// by not calling step(): SGD's momentum buffer starts at the first update that is applied, and
// AdamW's bias correction counts only applied updates. step_count() counts calls of step(), the
// training loop's iterations, dropped ones included.
#pragma once

#include <vector>

#include "nn/module.h"
#include "tensor/backend.h"

namespace remix::nn {

struct OptimizerState {
  NamedTensors tensors;
  int64_t step = 0;  // how many times step() ran
};

class Optimizer {
 public:
  Optimizer(NamedTensors params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  void step(const Tensor* skip_if = nullptr);
  void zero_grad();  // forgets the gradients of the optimised parameters

  void set_lr(double lr);  // writes the device tensor (no host synchronisation)
  double lr() const { return lr_; }
  const Tensor& lr_tensor() const { return lr_tensor_; }
  int64_t step_count() const { return step_count_; }
  const NamedTensors& params() const { return params_; }

  OptimizerState state_dict() const;
  // Restores state saved by state_dict of an optimizer over the same parameters: each tensor is
  // checked (known name, shape) and copied into place; unknown names are an error.
  void load_state_dict(const OptimizerState& state);

 protected:
  // One update of the parameters `which` (those with a gradient), whose gradients are `grads`:
  // all of them in one primitive call (one kernel launch on a GPU).
  virtual void update(const std::vector<size_t>& which, const std::vector<Tensor>& grads,
                      const Tensor* skip_if) = 0;
  // The state tensors of parameter i that exist now, named without the ".<param>" suffix.
  virtual NamedTensors state_of(size_t i) const = 0;
  // Replaces parameter i's state with `state` (names as state_of gives them).
  virtual void set_state_of(size_t i, const NamedTensors& state) = 0;
  // A copy of a saved state tensor on parameter i's device, checked to have `shape`.
  Tensor restored(size_t i, const NamedTensors& state, const std::string& name,
                  const Shape& shape) const;

  NamedTensors params_;

 private:
  double lr_ = 0;
  Tensor lr_tensor_;
  int64_t step_count_ = 0;
};

// torch.optim.SGD; see SgdOptions in tensor/backend.h for the update formula.
class SGD : public Optimizer {
 public:
  SGD(NamedTensors params, double lr, const SgdOptions& options = {});
  const SgdOptions& options() const { return options_; }

 private:
  void update(const std::vector<size_t>& which, const std::vector<Tensor>& grads,
              const Tensor* skip_if) override;
  void prepare_state(size_t i);  // creates the state at the parameter's first update
  NamedTensors state_of(size_t i) const override;
  void set_state_of(size_t i, const NamedTensors& state) override;

  SgdOptions options_;
  std::vector<Tensor> momentum_buffers_;  // undefined until the parameter's first update
  std::vector<Tensor> steps_;             // updates applied to each parameter (device, f32)
};

// torch.optim.AdamW; see AdamWOptions in tensor/backend.h for the update formula.
class AdamW : public Optimizer {
 public:
  AdamW(NamedTensors params, double lr, const AdamWOptions& options = {});
  const AdamWOptions& options() const { return options_; }

 private:
  void update(const std::vector<size_t>& which, const std::vector<Tensor>& grads,
              const Tensor* skip_if) override;
  void prepare_state(size_t i);  // creates the state at the parameter's first update
  NamedTensors state_of(size_t i) const override;
  void set_state_of(size_t i, const NamedTensors& state) override;

  AdamWOptions options_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_;  // undefined until the parameter's first update
  std::vector<Tensor> steps_;  // updates applied to each parameter (device, f32), or undefined
};

}  // namespace remix::nn
