// Log-softmax over the last axis, the fused soft-target cross entropy, and one-hot targets.
//
// Rows are class scores (K of them, tens to a thousand), so each row belongs to one warp: its 32
// lanes stride over the row and combine maxima and sums with shuffles. Eight warps per block.
//   log_softmax(x) = x - m - log(sum_k exp(x_k - m)),  m = max_k x_k  (no overflow in exp).
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

constexpr int kWarpsPerBlock = kThreads / kWarp;

__device__ __forceinline__ int64_t first_row() {
  return static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
}
__device__ __forceinline__ int64_t row_stride() {
  return static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
}

// m and log(sum_k exp(x_k - m)) of one row, on every lane of the calling warp.
template <class T>
__device__ void row_max_and_log_sum_exp(const T* row, int64_t K, float& m, float& lse) {
  const int lane = threadIdx.x % kWarp;
  m = -INFINITY;
  for (int64_t k = lane; k < K; k += kWarp) m = MaxOp{}(m, to_f32(row[k]));
  m = warp_reduce(m, MaxOp{});
  float sum = 0.f;
  for (int64_t k = lane; k < K; k += kWarp) sum += expf(to_f32(row[k]) - m);
  lse = logf(warp_reduce(sum, SumOp{}));
}

template <class T>
__global__ void log_softmax_forward_kernel(const T* x, int64_t rows, int64_t K, T* y) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t r = first_row(); r < rows; r += row_stride()) {
    float m, lse;
    row_max_and_log_sum_exp(x + r * K, K, m, lse);
    for (int64_t k = lane; k < K; k += kWarp)
      y[r * K + k] = from_f32<T>(to_f32(x[r * K + k]) - m - lse);
  }
}

// dx = dy - exp(y) * sum_k dy_k.
template <class T>
__global__ void log_softmax_backward_kernel(const T* dy, const T* y, int64_t rows, int64_t K,
                                            T* dx) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t r = first_row(); r < rows; r += row_stride()) {
    float sum = 0.f;
    for (int64_t k = lane; k < K; k += kWarp) sum += to_f32(dy[r * K + k]);
    sum = warp_reduce(sum, SumOp{});
    for (int64_t k = lane; k < K; k += kWarp) {
      const int64_t i = r * K + k;
      dx[i] = from_f32<T>(to_f32(dy[i]) - expf(to_f32(y[i])) * sum);
    }
  }
}

// loss[r] = -sum_k t[r,k] * log_softmax(z)[r,k].
__global__ void cross_entropy_forward_kernel(const float* logits, const float* targets,
                                             int64_t rows, int64_t K, float* loss) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t r = first_row(); r < rows; r += row_stride()) {
    float m, lse;
    row_max_and_log_sum_exp(logits + r * K, K, m, lse);
    float sum = 0.f;
    for (int64_t k = lane; k < K; k += kWarp)
      sum += targets[r * K + k] * (logits[r * K + k] - m - lse);
    sum = warp_reduce(sum, SumOp{});
    if (lane == 0) loss[r] = -sum;
  }
}

// dlogits[r,k] = dloss[r] * (softmax(z)[r,k] * sum_j t[r,j] - t[r,k]).
__global__ void cross_entropy_backward_kernel(const float* dloss, const float* logits,
                                              const float* targets, int64_t rows, int64_t K,
                                              float* dlogits) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t r = first_row(); r < rows; r += row_stride()) {
    float m, lse;
    row_max_and_log_sum_exp(logits + r * K, K, m, lse);
    float target_sum = 0.f;
    for (int64_t k = lane; k < K; k += kWarp) target_sum += targets[r * K + k];
    target_sum = warp_reduce(target_sum, SumOp{});
    const float g = dloss[r];
    for (int64_t k = lane; k < K; k += kWarp) {
      const int64_t i = r * K + k;
      dlogits[i] = g * (expf(logits[i] - m - lse) * target_sum - targets[i]);
    }
  }
}

// Labels outside [0, K) give a row of off_value (the host cannot check device labels without
// waiting for the GPU).
__global__ void one_hot_kernel(const int32_t* labels, int64_t rows, int64_t K, float on_value,
                               float off_value, float* out) {
  const int64_t n = rows * K;
  for (int64_t i = global_thread(); i < n; i += grid_stride())
    out[i] = labels[i / K] == i % K ? on_value : off_value;
}

unsigned row_blocks(int64_t rows) { return blocks_for(rows, kWarpsPerBlock); }

int64_t last_axis(const Tensor& t) { return t.dim() == 0 ? 1 : t.shape().back(); }

}  // namespace

void CudaBackend::log_softmax_forward(const Tensor& x, Tensor& y) {
  const int64_t K = last_axis(x), rows = K == 0 ? 0 : x.numel() / K;
  const cudaStream_t s = stream(x.device());
  dispatch_floating(x.dtype(), "log_softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    log_softmax_forward_kernel<<<row_blocks(rows), kThreads, 0, s>>>(
        static_cast<const T*>(x.raw_data()), rows, K, static_cast<T*>(y.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::log_softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  if (dy.dtype() != y.dtype())
    throw_error("log_softmax_backward: dy (" + std::string(dtype_name(dy.dtype())) + ") and y (" +
                std::string(dtype_name(y.dtype())) + ") must have the same dtype");
  const int64_t K = last_axis(y), rows = K == 0 ? 0 : y.numel() / K;
  const cudaStream_t s = stream(y.device());
  dispatch_floating(y.dtype(), "log_softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    log_softmax_backward_kernel<<<row_blocks(rows), kThreads, 0, s>>>(
        static_cast<const T*>(dy.raw_data()), static_cast<const T*>(y.raw_data()), rows, K,
        static_cast<T*>(dx.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                        Tensor& loss) {
  const int64_t rows = logits.size(0), K = logits.size(1);
  cross_entropy_forward_kernel<<<row_blocks(rows), kThreads, 0, stream(logits.device())>>>(
      static_cast<const float*>(logits.raw_data()), static_cast<const float*>(targets.raw_data()),
      rows, K, static_cast<float*>(loss.raw_data()));
  REMIX_CUDA_CHECK_LAUNCH();
}

void CudaBackend::cross_entropy_backward(const Tensor& dloss, const Tensor& logits,
                                         const Tensor& targets, Tensor& dlogits) {
  const int64_t rows = logits.size(0), K = logits.size(1);
  cross_entropy_backward_kernel<<<row_blocks(rows), kThreads, 0, stream(logits.device())>>>(
      static_cast<const float*>(dloss.raw_data()), static_cast<const float*>(logits.raw_data()),
      static_cast<const float*>(targets.raw_data()), rows, K,
      static_cast<float*>(dlogits.raw_data()));
  REMIX_CUDA_CHECK_LAUNCH();
}

void CudaBackend::one_hot(const Tensor& labels, double on_value, double off_value, Tensor& out) {
  const int64_t rows = out.size(0), K = out.size(1);
  one_hot_kernel<<<blocks_for(rows * K), kThreads, 0, stream(out.device())>>>(
      static_cast<const int32_t*>(labels.raw_data()), rows, K, static_cast<float>(on_value),
      static_cast<float>(off_value), static_cast<float*>(out.raw_data()));
  REMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace remix
