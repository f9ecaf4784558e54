// Optimizer steps on the CPU, in place, one parameter tensor at a time (f32).
//
// SGD follows torch.optim.SGD and AdamW torch.optim.AdamW (the formulas are in tensor/backend.h).
// The learning rate is read from a one-element tensor, and a nonzero skip_if element drops the
// whole update (parameters and optimizer state stay as they were), so that a step whose fp16
// gradients overflowed is skipped without the caller inspecting them.
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

}  // namespace

// g = grad + wd * p;  buf = first_step ? g : momentum * buf + (1 - dampening) * g;
// g = nesterov ? g + momentum * buf : buf  (plain g without momentum);  p -= lr * g.
void CpuBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                            const Tensor& lr, const SgdOptions& opt, bool first_step,
                            const Tensor* skip_if) {
  check_state(param, param, "sgd_update parameter");
  check_state(grad, param, "sgd_update gradient");
  const bool use_momentum = opt.momentum != 0.0;
  if (use_momentum) check_state(momentum_buffer, param, "sgd_update momentum buffer");
  if (skipped(skip_if)) return;
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
}

// p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
// p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), the order torch.optim.AdamW
// evaluates it in.
void CpuBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg,
                              Tensor& exp_avg_sq, const Tensor& lr, int64_t step,
                              const AdamWOptions& opt, const Tensor* skip_if) {
  check_state(param, param, "adamw_update parameter");
  check_state(grad, param, "adamw_update gradient");
  check_state(exp_avg, param, "adamw_update exp_avg");
  check_state(exp_avg_sq, param, "adamw_update exp_avg_sq");
  REMIX_CHECK(step >= 1, "adamw_update: step counts from 1, got {}", step);
  if (skipped(skip_if)) return;
  const double rate = lr.item();
  const auto t = static_cast<double>(step);
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
}

}  // namespace remix
