// Kernels for the element-wise parts of batch norm that cuDNN leaves to remix on its fallback
// paths (declared in cuda/batch_norm_activation.h): y = relu(y + z), and the ReLU mask of the
// backward. Arithmetic is in f32 whatever the storage type (cuda/kernel_utils.cuh).
#include "cuda/batch_norm_activation.h"
#include "cuda/kernel_utils.cuh"

namespace remix::cuda {
namespace {

template <class T>
__global__ void add_relu_kernel(T* y, const T* z, bool relu, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    float v = to_f32(y[i]);
    if (z != nullptr) v += to_f32(z[i]);
    if (relu) v = v > 0.0f ? v : 0.0f;
    y[i] = from_f32<T>(v);
  }
}

template <class T>
__global__ void relu_mask_kernel(const T* dy, const T* y, T* masked, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride())
    masked[i] = to_f32(y[i]) > 0.0f ? dy[i] : from_f32<T>(0.0f);
}

}  // namespace

void batch_norm_add_relu(void* y, const void* z, bool relu, int64_t n, DType dtype,
                         cudaStream_t stream) {
  if (n == 0) return;
  dispatch_floating(dtype, "batch norm on CUDA", [&](auto tag) {
    using T = typename decltype(tag)::type;
    add_relu_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<T*>(y),
                                                               static_cast<const T*>(z), relu, n);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void batch_norm_relu_mask(const void* dy, const void* y, void* masked, int64_t n, DType dtype,
                          cudaStream_t stream) {
  if (n == 0) return;
  dispatch_floating(dtype, "batch norm backward on CUDA", [&](auto tag) {
    using T = typename decltype(tag)::type;
    relu_mask_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        static_cast<const T*>(dy), static_cast<const T*>(y), static_cast<T*>(masked), n);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix::cuda
