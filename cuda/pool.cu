// Max and average pooling on NHWC tensors, forward and backward, with PyTorch's semantics
// (see PoolGeometry in tensor/backend.h): windows start at p * stride - pad, padding never wins
// a max, ceil_mode may add a last window that overhangs the input, and the average divides by
// the window clipped to the padded input (count_include_pad). Own kernels rather than cuDNN,
// whose pooling has no ceil mode.
//
// One thread per element, channels innermost so that neighbouring threads touch neighbouring
// memory. The backward passes gather: each input element sums the gradients of the windows that
// contain it, so every dx is written once, without atomics, deterministically.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// Position (n, row, col, c) of the NHWC element `index` in a tensor of `rows` x `cols` x `C`.
struct Position {
  int64_t n, row, col, c;
};
__device__ __forceinline__ Position position_of(int64_t index, int64_t rows, int64_t cols,
                                                int64_t C) {
  Position at;
  at.c = index % C;
  index /= C;
  at.col = index % cols;
  index /= cols;
  at.row = index % rows;
  at.n = index / rows;
  return at;
}

// The window of output (p, q): rows [h_begin, h_end) and columns [w_begin, w_end), clipped to
// the input; `divisor` counts the window clipped to the padded input instead.
struct Window {
  int64_t h_begin, h_end, w_begin, w_end, divisor;
};
__device__ __forceinline__ Window window_of(const PoolGeometry& g, int64_t p, int64_t q) {
  const int64_t h0 = p * g.stride_h - g.pad_h, w0 = q * g.stride_w - g.pad_w;
  const int64_t h1 = min(h0 + g.R, g.H + g.pad_h), w1 = min(w0 + g.S, g.W + g.pad_w);
  return {max(h0, int64_t{0}), min(h1, g.H), max(w0, int64_t{0}), min(w1, g.W),
          (h1 - h0) * (w1 - w0)};
}

// The outputs whose (unclipped) windows can contain input row `h`: p * stride - pad <= h and
// p * stride - pad + R > h, within [0, P).
__device__ __forceinline__ void outputs_covering(int64_t h, int64_t pad, int64_t k, int64_t stride,
                                                 int64_t outputs, int64_t& first, int64_t& last) {
  first = h + pad < k ? 0 : (h + pad - k) / stride + 1;
  last = min((h + pad) / stride, outputs - 1);
}

// The element of a window that max pooling picks, by the CPU's rule (tensor/cpu/pool.cpp): the
// first strict maximum in row-major order, or the last NaN when the window holds one (NaN
// propagates, as in PyTorch); the window's first element when every value is -inf. Returns its
// offset in x and its value in `best`. The backward finds the same element again from x, so the
// gradient of a NaN window goes where the CPU sends it.
template <class T>
__device__ __forceinline__ int64_t window_argmax(const T* x, const PoolGeometry& g,
                                                 const Window& win, int64_t n, int64_t c,
                                                 float& best) {
  best = -INFINITY;
  int64_t chosen = ((n * g.H + win.h_begin) * g.W + win.w_begin) * g.C + c;
  for (int64_t h = win.h_begin; h < win.h_end; ++h)
    for (int64_t w = win.w_begin; w < win.w_end; ++w) {
      const int64_t offset = ((n * g.H + h) * g.W + w) * g.C + c;
      const float v = to_f32(x[offset]);
      if (v > best || v != v) {
        best = v;
        chosen = offset;
      }
    }
  return chosen;
}

template <class T>
__global__ void max_pool_forward_kernel(const T* x, PoolGeometry g, T* y) {
  const int64_t n_out = g.N * g.P * g.Q * g.C;
  for (int64_t i = global_thread(); i < n_out; i += grid_stride()) {
    const Position at = position_of(i, g.P, g.Q, g.C);
    float best = 0.f;
    window_argmax(x, g, window_of(g, at.row, at.col), at.n, at.c, best);
    y[i] = from_f32<T>(best);
  }
}

// dx[i] = the sum of dy over the windows whose picked element (window_argmax) is i.
template <class T>
__global__ void max_pool_backward_kernel(const T* dy, const T* x, PoolGeometry g, T* dx) {
  const int64_t n_in = g.N * g.H * g.W * g.C;
  for (int64_t i = global_thread(); i < n_in; i += grid_stride()) {
    const Position at = position_of(i, g.H, g.W, g.C);
    int64_t p_first, p_last, q_first, q_last;
    outputs_covering(at.row, g.pad_h, g.R, g.stride_h, g.P, p_first, p_last);
    outputs_covering(at.col, g.pad_w, g.S, g.stride_w, g.Q, q_first, q_last);
    float sum = 0.f, best = 0.f;
    for (int64_t p = p_first; p <= p_last; ++p)
      for (int64_t q = q_first; q <= q_last; ++q) {
        const int64_t out = ((at.n * g.P + p) * g.Q + q) * g.C + at.c;
        if (window_argmax(x, g, window_of(g, p, q), at.n, at.c, best) == i) sum += to_f32(dy[out]);
      }
    dx[i] = from_f32<T>(sum);
  }
}

template <class T>
__global__ void avg_pool_forward_kernel(const T* x, PoolGeometry g, T* y) {
  const int64_t n_out = g.N * g.P * g.Q * g.C;
  for (int64_t i = global_thread(); i < n_out; i += grid_stride()) {
    const Position at = position_of(i, g.P, g.Q, g.C);
    const Window win = window_of(g, at.row, at.col);
    float sum = 0.f;
    for (int64_t h = win.h_begin; h < win.h_end; ++h)
      for (int64_t w = win.w_begin; w < win.w_end; ++w)
        sum += to_f32(x[((at.n * g.H + h) * g.W + w) * g.C + at.c]);
    y[i] = from_f32<T>(sum / static_cast<float>(win.divisor));
  }
}

// dx[h, w] = sum over the windows (p, q) containing (h, w) of dy[p, q] / divisor(p, q).
template <class T>
__global__ void avg_pool_backward_kernel(const T* dy, PoolGeometry g, T* dx) {
  const int64_t n_in = g.N * g.H * g.W * g.C;
  for (int64_t i = global_thread(); i < n_in; i += grid_stride()) {
    const Position at = position_of(i, g.H, g.W, g.C);
    int64_t p_first, p_last, q_first, q_last;
    outputs_covering(at.row, g.pad_h, g.R, g.stride_h, g.P, p_first, p_last);
    outputs_covering(at.col, g.pad_w, g.S, g.stride_w, g.Q, q_first, q_last);
    float sum = 0.f;
    for (int64_t p = p_first; p <= p_last; ++p)
      for (int64_t q = q_first; q <= q_last; ++q) {
        const Window win = window_of(g, p, q);
        if (at.row < win.h_begin || at.row >= win.h_end || at.col < win.w_begin ||
            at.col >= win.w_end)
          continue;
        sum +=
            to_f32(dy[((at.n * g.P + p) * g.Q + q) * g.C + at.c]) / static_cast<float>(win.divisor);
      }
    dx[i] = from_f32<T>(sum);
  }
}

}  // namespace

void CudaBackend::max_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) {
  const cudaStream_t s = stream(x.device());
  dispatch_floating(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    max_pool_forward_kernel<<<blocks_for(y.numel()), kThreads, 0, s>>>(
        static_cast<const T*>(x.raw_data()), g, static_cast<T*>(y.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::max_pool2d_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                                      const PoolGeometry& g, Tensor& dx) {
  const cudaStream_t s = stream(x.device());
  dispatch_floating(dx.dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    max_pool_backward_kernel<<<blocks_for(dx.numel()), kThreads, 0, s>>>(
        static_cast<const T*>(dy.raw_data()), static_cast<const T*>(x.raw_data()), g,
        static_cast<T*>(dx.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::avg_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) {
  const cudaStream_t s = stream(x.device());
  dispatch_floating(x.dtype(), "avg_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    avg_pool_forward_kernel<<<blocks_for(y.numel()), kThreads, 0, s>>>(
        static_cast<const T*>(x.raw_data()), g, static_cast<T*>(y.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::avg_pool2d_backward(const Tensor& dy, const PoolGeometry& g, Tensor& dx) {
  const cudaStream_t s = stream(dy.device());
  dispatch_floating(dx.dtype(), "avg_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    avg_pool_backward_kernel<<<blocks_for(dx.numel()), kThreads, 0, s>>>(
        static_cast<const T*>(dy.raw_data()), g, static_cast<T*>(dx.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix
