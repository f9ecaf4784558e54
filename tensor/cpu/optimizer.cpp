// Optimizer steps on the CPU, in place, one parameter tensor at a time (f32).
//
// SGD follows torch.optim.SGD and AdamW torch.optim.AdamW (the formulas are in tensor/backend.h).
// The learning rate and the count of applied updates (`step`) are read from one-element tensors,
// and a nonzero skip_if element drops the whole update (parameters and optimizer state, step
// included, stay as they were), so that a step whose fp16 gradients overflowed is skipped without
// the caller inspecting them.
#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {

namespace {

using cpu::parallel_for;

bool skipped(const Tensor* skip_if) {
  return skip_if != nullptr && skip_if->item() != 0.0f;
}

void check_state(const Tensor& state, const Tensor& param, const char* what) {
  REMIX_CHECK(state.dtype() == DType::f32 && state.shape() == param.shape(),
              "{}: expected f32 {} like the parameter, got {} {}", what, to_string(param.shape()),
              dtype_name(state.dtype()), to_string(state.shape()));
}

// The number of the update about to run, t = step + 1, checked to continue a whole count.
int64_t next_update(const Tensor& step, const char* what) {
  const float done = step.item();
  REMIX_CHECK(done >= 0 && done == std::floor(done), "{}: step must be a whole count >= 0, got {}",
              what, done);
  return static_cast<int64_t>(done) + 1;
}

// g = grad + wd * p;  buf = (t == 1) ? g : momentum * buf + (1 - dampening) * g;
// g = nesterov ? g + momentum * buf : buf  (plain g without momentum);  p -= lr * g.
void sgd_one(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const Tensor& lr,
             const SgdOptions& opt, Tensor& step, const Tensor* skip_if) {
  check_state(param, param, "sgd_update parameter");
  check_state(grad, param, "sgd_update gradient");
  const bool use_momentum = opt.momentum != 0.0;
  if (use_momentum) check_state(momentum_buffer, param, "sgd_update momentum buffer");
  if (skipped(skip_if)) return;
  const int64_t t = next_update(step, "sgd_update");
  const bool first_step = t == 1;
  const float rate = lr.item();
  const auto wd = static_cast<float>(opt.weight_decay);
  const auto momentum = static_cast<float>(opt.momentum);
  const auto keep = static_cast<float>(1.0 - opt.dampening);
  float* p = param.data<float>();
  const float* dp = grad.data<float>();
  float* buf = use_momentum ? momentum_buffer.data<float>() : nullptr;
  parallel_for(param.numel(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float g = dp[i] + wd * p[i];
      if (use_momentum) {
        buf[i] = first_step ? g : momentum * buf[i] + keep * g;
        g = opt.nesterov ? g + momentum * buf[i] : buf[i];
      }
      p[i] -= rate * g;
    }
  });
  step.data<float>()[0] = static_cast<float>(t);
}

// p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), the order torch.optim.AdamW
// evaluates it in.
void adamw_one(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
               const Tensor& lr, Tensor& step, const AdamWOptions& opt, const Tensor* skip_if) {
  check_state(param, param, "adamw_update parameter");
  check_state(grad, param, "adamw_update gradient");
  check_state(exp_avg, param, "adamw_update exp_avg");
  check_state(exp_avg_sq, param, "adamw_update exp_avg_sq");
  if (skipped(skip_if)) return;
  const int64_t update = next_update(step, "adamw_update");
  const double rate = lr.item();
  const auto t = static_cast<double>(update);
  const auto decay = static_cast<float>(1.0 - rate * opt.weight_decay);
  const auto b1 = static_cast<float>(opt.beta1), b2 = static_cast<float>(opt.beta2);
  const auto step_size = static_cast<float>(rate / (1.0 - std::pow(opt.beta1, t)));
  const auto bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(opt.beta2, t)));
  const auto eps = static_cast<float>(opt.eps);
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* m = exp_avg.data<float>();
  float* v = exp_avg_sq.data<float>();
  parallel_for(param.numel(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      p[i] *= decay;
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      const float denom = std::sqrt(v[i]) / bias_correction2_sqrt + eps;
      p[i] -= step_size * m[i] / denom;
    }
  });
  step.data<float>()[0] = static_cast<float>(update);
}

}  // namespace

void CpuBackend::sgd_update(const std::vector<SgdSlot>& slots, const Tensor& lr,
                            const SgdOptions& opt, const Tensor* skip_if) {
  for (const SgdSlot& s : slots)
    sgd_one(*s.param, *s.grad, *s.momentum_buffer, lr, opt, *s.step, skip_if);
}

void CpuBackend::adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr,
                              const AdamWOptions& opt, const Tensor* skip_if) {
  for (const AdamWSlot& s : slots)
    adamw_one(*s.param, *s.grad, *s.exp_avg, *s.exp_avg_sq, lr, *s.step, opt, skip_if);
}

}  // namespace remix
