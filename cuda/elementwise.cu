// Elementwise arithmetic on the GPU: binary ops with NumPy broadcasting, ops with a scalar,
// unary functions and the ReLU backward. Values are widened to f32, combined, and rounded back
// to the tensor's dtype (f32, f16 or bf16).
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// maximum/minimum propagate NaN, as torch.maximum/torch.minimum.
// __host__ too, so that the host compiler checks that the switch names every op (-Werror=switch).
__host__ __device__ __forceinline__ float apply_binary(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::maximum: return (a != a || b != b) ? NAN : fmaxf(a, b);
    case BinaryOp::minimum: return (a != a || b != b) ? NAN : fminf(a, b);
    case BinaryOp::pow: return powf(a, b);
    case BinaryOp::equal: return a == b ? 1.f : 0.f;
    case BinaryOp::greater: return a > b ? 1.f : 0.f;
  }
  __builtin_unreachable();  // every enumerator returns above
}

__host__ __device__ __forceinline__ float apply_unary(UnaryOp op, float x) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return expf(x);
    case UnaryOp::log: return logf(x);
    case UnaryOp::sqrt: return sqrtf(x);
    case UnaryOp::rsqrt: return rsqrtf(x);
    case UnaryOp::abs: return fabsf(x);
    case UnaryOp::relu: return x > 0.f ? x : 0.f;
    case UnaryOp::sigmoid: return 1.f / (1.f + expf(-x));
    case UnaryOp::tanh: return tanhf(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::reciprocal: return 1.f / x;
  }
  __builtin_unreachable();  // every enumerator returns above
}

// out[i] = a[a_index(i)] (op) b[b_index(i)]; the indices broadcast a and b to out's shape.
template <class T>
__global__ void binary_kernel(BinaryOp op, const T* a, StridedIndex a_index, const T* b,
                              StridedIndex b_index, T* out, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const float va = to_f32(a[a_index.offset(i)]), vb = to_f32(b[b_index.offset(i)]);
    out[i] = from_f32<T>(apply_binary(op, va, vb));
  }
}

// The common case of equal shapes, without index arithmetic.
template <class T>
__global__ void binary_same_shape_kernel(BinaryOp op, const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride())
    out[i] = from_f32<T>(apply_binary(op, to_f32(a[i]), to_f32(b[i])));
}

template <class T>
__global__ void binary_scalar_kernel(BinaryOp op, const T* a, float scalar, bool scalar_first,
                                     T* out, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const float v = to_f32(a[i]);
    out[i] = from_f32<T>(scalar_first ? apply_binary(op, scalar, v) : apply_binary(op, v, scalar));
  }
}

template <class T>
__global__ void unary_kernel(UnaryOp op, const T* x, T* out, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride())
    out[i] = from_f32<T>(apply_unary(op, to_f32(x[i])));
}

template <class T>
__global__ void relu_backward_kernel(const T* dy, const T* y, T* dx, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride())
    dx[i] = to_f32(y[i]) > 0.f ? dy[i] : from_f32<T>(0.f);
}

}  // namespace

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const cudaStream_t s = stream(out.device());
  const int64_t n = out.numel();
  const bool same_shape = a.shape() == out.shape() && b.shape() == out.shape();
  const auto [a_index, b_index] = make_strided_indices<2>(
      out.shape(), {broadcast_strides(a.shape(), out.shape()),
                    broadcast_strides(b.shape(), out.shape())});
  dispatch_floating(out.dtype(), "binary op", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = static_cast<const T*>(a.raw_data());
    const T* pb = static_cast<const T*>(b.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    if (same_shape) {
      binary_same_shape_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, pa, pb, po, n);
    } else {
      binary_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, pa, a_index, pb, b_index, po, n);
    }
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::binary_scalar(BinaryOp op, const Tensor& a, double scalar, bool scalar_first,
                                Tensor& out) {
  const cudaStream_t s = stream(out.device());
  const int64_t n = out.numel();
  dispatch_floating(out.dtype(), "scalar op", [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_scalar_kernel<<<blocks_for(n), kThreads, 0, s>>>(
        op, static_cast<const T*>(a.raw_data()), static_cast<float>(scalar), scalar_first,
        static_cast<T*>(out.raw_data()), n);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::unary(UnaryOp op, const Tensor& x, Tensor& out) {
  const cudaStream_t s = stream(out.device());
  const int64_t n = out.numel();
  dispatch_floating(out.dtype(), "unary op", [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_kernel<<<blocks_for(n), kThreads, 0, s>>>(op, static_cast<const T*>(x.raw_data()),
                                                    static_cast<T*>(out.raw_data()), n);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  if (dy.dtype() != y.dtype())
    throw_error("relu_backward: dy (" + std::string(dtype_name(dy.dtype())) + ") and y (" +
                std::string(dtype_name(y.dtype())) + ") must have the same dtype");
  const cudaStream_t s = stream(dx.device());
  const int64_t n = dx.numel();
  dispatch_floating(dx.dtype(), "relu_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    relu_backward_kernel<<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<const T*>(dy.raw_data()), static_cast<const T*>(y.raw_data()),
        static_cast<T*>(dx.raw_data()), n);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix
