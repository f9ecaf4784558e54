// Mixed-precision loss scaling on the GPU, without host synchronisation: gradients are unscaled
// with a device-side found_inf flag, and the scale is updated by a one-thread kernel, so the host
// never reads whether a step overflowed (the optimizer kernels read the flag themselves).
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// grad *= inv_scale; any non-finite result (as stored in grad's dtype) sets *found_inf = 1.
// Every writer stores the same value, so the race between threads is harmless.
template <class T>
__global__ void amp_unscale_kernel(T* grad, const float* inv_scale, float* found_inf, int64_t n) {
  const float factor = *inv_scale;
  bool any_inf = false;
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const T v = from_f32<T>(to_f32(grad[i]) * factor);
    grad[i] = v;
    if (!isfinite(to_f32(v))) any_inf = true;
  }
  if (any_inf) *found_inf = 1.f;
}

// torch.amp.GradScaler.update (_amp_update_scale_): back off on overflow, grow after `interval`
// good steps in a row (only to a finite scale); then refresh 1/scale and clear the flag.
__global__ void amp_update_scale_kernel(float* scale, float* inv_scale, float* found_inf,
                                        float* growth_tracker, float growth, float backoff,
                                        float interval) {
  if (*found_inf != 0.f) {
    *scale *= backoff;
    *growth_tracker = 0.f;
  } else {
    const float good_steps = *growth_tracker + 1.f;
    if (good_steps >= interval) {
      const float grown = *scale * growth;
      if (isfinite(grown)) *scale = grown;
      *growth_tracker = 0.f;
    } else {
      *growth_tracker = good_steps;
    }
  }
  *inv_scale = 1.f / *scale;
  *found_inf = 0.f;
}

}  // namespace

void CudaBackend::amp_unscale(Tensor& grad, const Tensor& inv_scale, Tensor& found_inf) {
  const int64_t n = grad.numel();
  const cudaStream_t s = stream(grad.device());
  dispatch_floating(grad.dtype(), "amp_unscale", [&](auto tag) {
    using T = typename decltype(tag)::type;
    amp_unscale_kernel<<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<T*>(grad.raw_data()), static_cast<const float*>(inv_scale.raw_data()),
        static_cast<float*>(found_inf.raw_data()), n);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::amp_update_scale(Tensor& scale, Tensor& inv_scale, Tensor& found_inf,
                                   Tensor& growth_tracker, double growth, double backoff,
                                   int64_t interval) {
  amp_update_scale_kernel<<<1, 1, 0, stream(scale.device())>>>(
      static_cast<float*>(scale.raw_data()), static_cast<float*>(inv_scale.raw_data()),
      static_cast<float*>(found_inf.raw_data()), static_cast<float*>(growth_tracker.raw_data()),
      static_cast<float>(growth), static_cast<float>(backoff), static_cast<float>(interval));
  REMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace remix
