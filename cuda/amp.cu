// Mixed-precision loss scaling on the GPU, without host synchronisation: gradients are unscaled
// with a device-side found_inf flag, and the scale is updated by a one-thread kernel, so the host
// never reads whether a step overflowed (the optimizer kernels read the flag themselves). All
// gradients of one dtype are unscaled by one launch (the table of cuda/multi_tensor.cuh).
#include <array>
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"
#include "cuda/multi_tensor.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// One gradient in the device table.
struct GradEntry {
  void* grad;
  int64_t n;
};

// grad *= inv_scale over this block's chunk; any non-finite result (as stored in grad's dtype)
// sets *found_inf = 1. Every writer stores the same value, so the race between threads is
// harmless.
template <class T>
__global__ void amp_unscale_kernel(DeviceTable<GradEntry> t, const float* inv_scale,
                                   float* found_inf) {
  int64_t begin = 0, end = 0;
  const GradEntry& e = chunk_entry(t, begin, end);
  T* grad = static_cast<T*>(e.grad);
  const float factor = *inv_scale;
  bool any_inf = false;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
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

// The gradients of one dtype, unscaled by one launch.
void unscale_group(const std::vector<Tensor*>& grads, DType dtype, TableCache& cache,
                   const Tensor& inv_scale, Tensor& found_inf) {
  std::vector<GradEntry> entries;
  std::vector<int64_t> sizes;
  for (Tensor* g : grads) {
    if (g->dtype() != dtype || g->numel() == 0) continue;
    entries.push_back({g->raw_data(), g->numel()});
    sizes.push_back(g->numel());
  }
  if (entries.empty()) return;
  const DeviceTable<GradEntry> table = cache.upload(entries, chunks_of(sizes), found_inf.device());
  dispatch_floating(dtype, "amp_unscale", [&](auto tag) {
    using T = typename decltype(tag)::type;
    amp_unscale_kernel<T>
        <<<static_cast<unsigned>(table.chunk_count), kThreads, 0, stream(found_inf.device())>>>(
            table, static_cast<const float*>(inv_scale.raw_data()),
            static_cast<float*>(found_inf.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

void CudaBackend::amp_unscale(const std::vector<Tensor*>& grads, const Tensor& inv_scale,
                              Tensor& found_inf) {
  // One table per dtype, never destroyed (they hold device tensors).
  static auto* caches = new std::array<TableCache, 3>();
  const DType dtypes[] = {DType::f32, DType::f16, DType::bf16};
  for (int k = 0; k < 3; ++k) unscale_group(grads, dtypes[k], (*caches)[k], inv_scale, found_inf);
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
