// Fused optimizer steps on the GPU, one kernel per parameter tensor, in place.
//
// The learning rate and the optional skip flag are read from device memory inside the kernel, so
// a step captured in a CUDA graph follows a schedule that changes lr, and a step whose fp16
// gradients overflowed is dropped, without the host ever waiting for the GPU.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// Plain-old-data copies of the options, with the per-step constants already computed.
struct SgdParams {
  float momentum, dampening, weight_decay;
  bool nesterov, first_step;
};

struct AdamWParams {
  float beta1, beta2, eps, weight_decay;
  float bias_correction1, bias_correction2_sqrt;  // 1 - beta1^t and sqrt(1 - beta2^t)
};

// True when a skip flag is given and set.
__device__ __forceinline__ bool skipped(const float* skip_if) {
  return skip_if != nullptr && *skip_if != 0.f;
}

// torch.optim.SGD: g = grad + wd * p; buf = momentum * buf + (1 - dampening) * g (buf = g on the
// first step); g = nesterov ? g + momentum * buf : buf; p -= lr * g.
__global__ void sgd_kernel(float* param, const float* grad, float* buffer, const float* lr,
                           const float* skip_if, SgdParams o, int64_t n) {
  if (skipped(skip_if)) return;
  const float rate = *lr;
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    float g = grad[i] + o.weight_decay * param[i];
    if (o.momentum != 0.f) {
      const float b = o.first_step ? g : o.momentum * buffer[i] + (1.f - o.dampening) * g;
      buffer[i] = b;
      g = o.nesterov ? g + o.momentum * b : b;
    }
    param[i] -= rate * g;
  }
}

// torch.optim.AdamW: p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
__global__ void adamw_kernel(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                             const float* lr, const float* skip_if, AdamWParams o, int64_t n) {
  if (skipped(skip_if)) return;
  const float rate = *lr;
  const float step_size = rate / o.bias_correction1;
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const float g = grad[i];
    const float m = o.beta1 * exp_avg[i] + (1.f - o.beta1) * g;
    const float v = o.beta2 * exp_avg_sq[i] + (1.f - o.beta2) * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    const float p = param[i] * (1.f - rate * o.weight_decay);
    param[i] = p - step_size * m / (sqrtf(v) / o.bias_correction2_sqrt + o.eps);
  }
}

const float* optional_data(const Tensor* t) {
  return t == nullptr ? nullptr : static_cast<const float*>(t->raw_data());
}

}  // namespace

void CudaBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                             const Tensor& lr, const SgdOptions& opt, bool first_step,
                             const Tensor* skip_if) {
  const SgdParams o{static_cast<float>(opt.momentum), static_cast<float>(opt.dampening),
                    static_cast<float>(opt.weight_decay), opt.nesterov, first_step};
  float* buffer = opt.momentum != 0.0 ? static_cast<float*>(momentum_buffer.raw_data()) : nullptr;
  const int64_t n = param.numel();
  sgd_kernel<<<blocks_for(n), kThreads, 0, stream(param.device())>>>(
      static_cast<float*>(param.raw_data()), static_cast<const float*>(grad.raw_data()), buffer,
      static_cast<const float*>(lr.raw_data()), optional_data(skip_if), o, n);
  REMIX_CUDA_CHECK_LAUNCH();
}

void CudaBackend::adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg,
                               Tensor& exp_avg_sq, const Tensor& lr, int64_t step,
                               const AdamWOptions& opt, const Tensor* skip_if) {
  const double t = static_cast<double>(step);
  const AdamWParams o{static_cast<float>(opt.beta1),
                      static_cast<float>(opt.beta2),
                      static_cast<float>(opt.eps),
                      static_cast<float>(opt.weight_decay),
                      static_cast<float>(1.0 - std::pow(opt.beta1, t)),
                      static_cast<float>(std::sqrt(1.0 - std::pow(opt.beta2, t)))};
  const int64_t n = param.numel();
  adamw_kernel<<<blocks_for(n), kThreads, 0, stream(param.device())>>>(
      static_cast<float*>(param.raw_data()), static_cast<const float*>(grad.raw_data()),
      static_cast<float*>(exp_avg.raw_data()), static_cast<float*>(exp_avg_sq.raw_data()),
      static_cast<const float*>(lr.raw_data()), optional_data(skip_if), o, n);
  REMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace remix
