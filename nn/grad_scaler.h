// GradScaler: dynamic loss scaling for fp16 training, as torch.amp.GradScaler, with every
// decision taken on the device (no host synchronisation, so a training step can be captured in a
// CUDA graph):
//
//   loss = scaler.scale(loss);  backward(loss);   gradients are now multiplied by `scale`
//   scaler.step(optimizer);     grads *= 1 / scale; found_inf = any non-finite gradient;
//                               the optimizer skips its update where found_inf != 0
//   scaler.update();            found_inf ? scale *= backoff (growth count reset)
//                                         : after `growth_interval` good steps scale *= growth
//
// scale, inverse scale, found_inf and the growth counter are one-element f32 device tensors.
#pragma once

#include "nn/module.h"
#include "nn/optimizer.h"

namespace remix::nn {

struct GradScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class GradScaler {
 public:
  explicit GradScaler(Device device, const GradScalerOptions& options = {});

  // loss * scale (differentiable in loss); `loss` must have one element.
  Tensor scale(const Tensor& loss) const;
  // Divides the optimiser's gradients by the scale and records non-finite values in found_inf.
  // Call it before clipping or inspecting gradients; step() calls it if it has not run.
  void unscale(Optimizer& optimizer);
  void step(Optimizer& optimizer);
  void update();

  const Tensor& scale_tensor() const { return scale_; }
  const Tensor& found_inf() const { return found_inf_; }
  // Reads the current scale on the host (synchronises: for logging, not in the step).
  double scale_value() const { return scale_.item(); }

  // "scale" and "growth_tracker", for checkpoints.
  NamedTensors state_dict() const;
  void load_state_dict(const NamedTensors& state);

 private:
  GradScalerOptions options_;
  Tensor scale_, inv_scale_, found_inf_, growth_tracker_;
  bool unscaled_ = false;  // unscale() ran since the last update()
};

}  // namespace remix::nn
