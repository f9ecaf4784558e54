// GradScaler over prim::amp_unscale / prim::amp_update_scale (tensor/cpu/amp.cpp, cuda/amp.cu).
#include "nn/grad_scaler.h"

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix::nn {

GradScaler::GradScaler(Device device, const GradScalerOptions& options) : options_(options) {
  REMIX_CHECK(options.init_scale > 0 && options.growth_factor > 1 && options.backoff_factor > 0 &&
                  options.backoff_factor < 1 && options.growth_interval > 0,
              "GradScaler: expected init_scale > 0, growth > 1, 0 < backoff < 1 and interval > 0");
  scale_ = Tensor::full({1}, options.init_scale, DType::f32, device);
  inv_scale_ = Tensor::full({1}, 1.0 / options.init_scale, DType::f32, device);
  found_inf_ = Tensor::zeros({1}, DType::f32, device);
  growth_tracker_ = Tensor::zeros({1}, DType::f32, device);
}

Tensor GradScaler::scale(const Tensor& loss) const {
  REMIX_CHECK(loss.numel() == 1, "GradScaler::scale: expected a one-element loss, got {}",
              to_string(loss.shape()));
  return mul(loss, cast(scale_, loss.dtype()).reshape(loss.shape()));
}

void GradScaler::unscale(Optimizer& optimizer) {
  if (unscaled_) return;
  std::vector<Tensor> grads;
  for (const auto& [name, param] : optimizer.params()) {
    Tensor g = grad(param);
    if (g.defined()) grads.push_back(std::move(g));
  }
  std::vector<Tensor*> all;
  for (Tensor& g : grads) all.push_back(&g);
  prim::amp_unscale(all, inv_scale_, found_inf_);  // one launch for every gradient on a GPU
  unscaled_ = true;
}

void GradScaler::step(Optimizer& optimizer) {
  unscale(optimizer);
  optimizer.step(&found_inf_);
}

void GradScaler::update() {
  prim::amp_update_scale(scale_, inv_scale_, found_inf_, growth_tracker_, options_.growth_factor,
                         options_.backoff_factor, options_.growth_interval);
  unscaled_ = false;
}

NamedTensors GradScaler::state_dict() const {
  return {{"scale", scale_}, {"growth_tracker", growth_tracker_}};
}

void GradScaler::load_state_dict(const NamedTensors& state) {
  auto value_of = [&](const std::string& name) {
    for (const auto& [n, tensor] : state) {
      if (n != name) continue;
      REMIX_CHECK(tensor.numel() == 1 && tensor.dtype() == DType::f32,
                  "GradScaler state '{}': expected one f32 element, got {} {}", name,
                  dtype_name(tensor.dtype()), to_string(tensor.shape()));
      return tensor.item();
    }
    throw_error(fmt::format("GradScaler state: '{}' is missing", name));
  };
  REMIX_CHECK(state.size() == 2,
              "GradScaler state: expected exactly 'scale' and "
              "'growth_tracker', got {} entries",
              state.size());
  const float scale = value_of("scale");
  const float growth_tracker = value_of("growth_tracker");
  REMIX_CHECK(scale > 0, "GradScaler state: the scale must be > 0, got {}", scale);
  prim::fill(scale_, scale);
  prim::fill(inv_scale_, 1.0 / scale);
  prim::fill(growth_tracker_, growth_tracker);
  prim::fill(found_inf_, 0.0);
  unscaled_ = false;
}

}  // namespace remix::nn
