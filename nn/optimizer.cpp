// SGD and AdamW: the per-parameter arithmetic is prim::sgd_update / prim::adamw_update
// (tensor/cpu/optimizer.cpp, cuda/optimizer.cu); this file keeps the state and its names.
#include "nn/optimizer.h"

#include "autograd/node.h"
#include "tensor/primitives.h"

namespace remix::nn {

namespace {

// "exp_avg.layer1.0.conv1.weight" -> {"exp_avg", "layer1.0.conv1.weight"}.
std::pair<std::string, std::string> split_state_name(const std::string& name) {
  const size_t dot = name.find('.');
  REMIX_CHECK(dot != std::string::npos && dot > 0 && dot + 1 < name.size(),
              "optimizer state: '{}' is not of the form <state>.<parameter>", name);
  return {name.substr(0, dot), name.substr(dot + 1)};
}

void check_only(const NamedTensors& state, const std::vector<std::string>& known,
                const std::string& param) {
  for (const auto& [name, tensor] : state) {
    bool ok = false;
    for (const auto& k : known) ok = ok || k == name;
    REMIX_CHECK(ok, "optimizer state: unexpected entry '{}.{}' (expected {})", name, param,
                fmt::join(known, ", "));
  }
}

}  // namespace

Optimizer::Optimizer(NamedTensors params, double lr) : params_(std::move(params)) {
  REMIX_CHECK(!params_.empty(), "optimizer: no parameters to optimise");
  const Device device = params_.front().second.device();
  for (const auto& [name, p] : params_) {
    REMIX_CHECK(p.dtype() == DType::f32 && p.device() == device,
                "optimizer: parameter '{}' is {} on {}; expected f32 on {} like the first one",
                name, dtype_name(p.dtype()), to_string(p.device()), to_string(device));
  }
  lr_tensor_ = Tensor::empty({1}, DType::f32, device);
  set_lr(lr);
}

void Optimizer::set_lr(double lr) {
  REMIX_CHECK(lr >= 0, "optimizer: the learning rate must be >= 0, got {}", lr);
  lr_ = lr;
  prim::fill(lr_tensor_, lr);
}

void Optimizer::step(const Tensor* skip_if) {
  std::vector<size_t> which;
  std::vector<Tensor> grads;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = grad(params_[i].second);
    if (!g.defined()) continue;
    which.push_back(i);
    grads.push_back(std::move(g));
  }
  if (!which.empty()) update(which, grads, skip_if);
  ++step_count_;
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) remix::zero_grad(p);
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState out;
  out.step = step_count_;
  for (size_t i = 0; i < params_.size(); ++i)
    for (const auto& [state, tensor] : state_of(i))
      out.tensors.emplace_back(state + "." + params_[i].first, tensor);
  return out;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  REMIX_CHECK(state.step >= 0, "optimizer state: negative step count {}", state.step);
  std::vector<NamedTensors> per_param(params_.size());
  for (const auto& [full_name, tensor] : state.tensors) {
    const auto [state_name, param] = split_state_name(full_name);
    size_t i = 0;
    while (i < params_.size() && params_[i].first != param) ++i;
    REMIX_CHECK(i < params_.size(), "optimizer state: '{}' names no optimised parameter",
                full_name);
    per_param[i].emplace_back(state_name, tensor);
  }
  for (size_t i = 0; i < params_.size(); ++i) set_state_of(i, per_param[i]);
  step_count_ = state.step;
}

Tensor Optimizer::restored(size_t i, const NamedTensors& state, const std::string& name,
                           const Shape& shape) const {
  const std::string& param = params_[i].first;
  for (const auto& [n, tensor] : state) {
    if (n != name) continue;
    REMIX_CHECK(tensor.shape() == shape && tensor.dtype() == DType::f32,
                "optimizer state '{}.{}': expected f32 {}, got {} {}", name, param,
                to_string(shape), dtype_name(tensor.dtype()), to_string(tensor.shape()));
    // A copy through the host, so that the optimizer never aliases the caller's tensors.
    return Tensor::from_vector(tensor.to_vector<float>(), shape, params_[i].second.device());
  }
  throw_error(fmt::format("optimizer state: '{}.{}' is missing", name, param));
}

// ------------------------------------------------------------------------------------ SGD

SGD::SGD(NamedTensors params, double lr, const SgdOptions& options)
    : Optimizer(std::move(params), lr),
      options_(options),
      momentum_buffers_(params_.size()),
      steps_(params_.size()) {
  REMIX_CHECK(options.momentum >= 0 && options.weight_decay >= 0 && options.dampening >= 0,
              "SGD: momentum, dampening and weight decay must be >= 0");
  REMIX_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "SGD: Nesterov momentum requires a momentum > 0 and zero dampening");
}

void SGD::prepare_state(size_t i) {
  if (steps_[i].defined()) return;
  const Tensor& param = params_[i].second;
  steps_[i] = Tensor::zeros({1}, DType::f32, param.device());
  if (options_.momentum != 0)
    momentum_buffers_[i] = Tensor::zeros(param.shape(), DType::f32, param.device());
}

void SGD::update(const std::vector<size_t>& which, const std::vector<Tensor>& grads,
                 const Tensor* skip_if) {
  std::vector<SgdSlot> slots;
  for (size_t k = 0; k < which.size(); ++k) {
    const size_t i = which[k];
    prepare_state(i);
    slots.push_back({&params_[i].second, &grads[k], &momentum_buffers_[i], &steps_[i]});
  }
  prim::sgd_update(slots, lr_tensor(), options_, skip_if);
}

// PyTorch's SGD state holds the momentum buffer once an update has started it (reading the count
// waits for the device: state is saved between steps, not inside one).
NamedTensors SGD::state_of(size_t i) const {
  if (!momentum_buffers_[i].defined() || steps_[i].item() == 0.0f) return {};
  return {{"momentum_buffer", momentum_buffers_[i]}};
}

void SGD::set_state_of(size_t i, const NamedTensors& state) {
  check_only(state, {"momentum_buffer"}, params_[i].first);
  const Tensor& param = params_[i].second;
  if (state.empty()) {
    momentum_buffers_[i] = steps_[i] = Tensor();
    return;
  }
  momentum_buffers_[i] = restored(i, state, "momentum_buffer", param.shape());
  steps_[i] = Tensor::ones({1}, DType::f32, param.device());  // the buffer has been started
}

// ---------------------------------------------------------------------------------- AdamW

AdamW::AdamW(NamedTensors params, double lr, const AdamWOptions& options)
    : Optimizer(std::move(params), lr),
      options_(options),
      exp_avg_(params_.size()),
      exp_avg_sq_(params_.size()),
      steps_(params_.size()) {
  REMIX_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
              "AdamW: betas must be in [0, 1), got {} and {}", options.beta1, options.beta2);
  REMIX_CHECK(options.eps > 0 && options.weight_decay >= 0,
              "AdamW: expected eps > 0 and weight decay >= 0, got {} and {}", options.eps,
              options.weight_decay);
}

void AdamW::prepare_state(size_t i) {
  if (exp_avg_[i].defined()) return;
  const Tensor& param = params_[i].second;
  exp_avg_[i] = Tensor::zeros(param.shape(), DType::f32, param.device());
  exp_avg_sq_[i] = Tensor::zeros(param.shape(), DType::f32, param.device());
  steps_[i] = Tensor::zeros({1}, DType::f32, param.device());
}

void AdamW::update(const std::vector<size_t>& which, const std::vector<Tensor>& grads,
                   const Tensor* skip_if) {
  std::vector<AdamWSlot> slots;
  for (size_t k = 0; k < which.size(); ++k) {
    const size_t i = which[k];
    prepare_state(i);
    slots.push_back({&params_[i].second, &grads[k], &exp_avg_[i], &exp_avg_sq_[i], &steps_[i]});
  }
  prim::adamw_update(slots, lr_tensor(), options_, skip_if);
}

NamedTensors AdamW::state_of(size_t i) const {
  if (!exp_avg_[i].defined()) return {};
  return {{"exp_avg", exp_avg_[i]}, {"exp_avg_sq", exp_avg_sq_[i]}, {"step", steps_[i]}};
}

void AdamW::set_state_of(size_t i, const NamedTensors& state) {
  check_only(state, {"exp_avg", "exp_avg_sq", "step"}, params_[i].first);
  if (state.empty()) {
    exp_avg_[i] = exp_avg_sq_[i] = steps_[i] = Tensor();
    return;
  }
  const Shape& shape = params_[i].second.shape();
  exp_avg_[i] = restored(i, state, "exp_avg", shape);
  exp_avg_sq_[i] = restored(i, state, "exp_avg_sq", shape);
  steps_[i] = restored(i, state, "step", {1});
  // 0 is possible: the state exists from the first update on, which may have been dropped.
  const float step = steps_[i].item();
  REMIX_CHECK(step >= 0 && step == static_cast<float>(static_cast<int64_t>(step)),
              "optimizer state 'step.{}': expected a whole count >= 0, got {}", params_[i].first,
              step);
}

}  // namespace remix::nn
