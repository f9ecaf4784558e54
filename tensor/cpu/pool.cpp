// Max and average pooling on the CPU, NHWC f32, with the window geometry of PyTorch's
// max_pool2d / avg_pool2d (padding, ceil_mode; see make_pool_geometry in tensor/backend.cpp).
//
// Output pixel (p, q) covers input rows [p * stride_h - pad_h, + R) and columns likewise.
// - Max pooling treats padding as -inf, so a padding cell is never the maximum; the backward pass
//   finds the first maximum of each window again (scanning rows, then columns, as the forward
//   does) and routes the gradient there. A NaN counts as larger than anything, as in PyTorch, so
//   that it propagates.
// - Average pooling follows count_include_pad=True: the divisor is the window clipped to the
//   padded input, (hend - hstart) * (wend - wstart) with hend = min(hstart + R, H + pad_h), while
//   the sum runs over the cells inside the input.
// Channels are the innermost loop everywhere, so the per-pixel work vectorises over C; the
// definitions, one element at a time, are in reference_pooling.cpp.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"
#include "tensor/cpu/reference.h"

namespace remix {
namespace {

void check_f32(const Tensor& t, const char* what) {
  REMIX_CHECK(t.dtype() == DType::f32, "pool2d on the CPU computes in f32, but {} is {}", what,
              dtype_name(t.dtype()));
}

// One window along one axis: the cells [begin, end) inside the input, and the length of the
// window clipped to the padded input (the average-pooling divisor along this axis).
struct Span {
  int64_t begin, end, padded_length;
};

Span window(int64_t out_index, int64_t kernel, int64_t stride, int64_t pad, int64_t in_size) {
  const int64_t start = out_index * stride - pad;
  const int64_t padded_end = std::min(start + kernel, in_size + pad);
  return {std::max<int64_t>(start, 0), std::min(padded_end, in_size), padded_end - start};
}

}  // namespace

void CpuBackend::max_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) {
  check_f32(x, "x");
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  if (cpu::reference_kernels_enabled()) return cpu::reference::max_pool2d_forward(xp, g, yp);
  const int64_t C = g.C;
#pragma omp parallel for collapse(2) schedule(static) if (x.numel() >= cpu::kParallelThreshold)
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t p = 0; p < g.P; ++p) {
      const Span rows = window(p, g.R, g.stride_h, g.pad_h, g.H);
      for (int64_t q = 0; q < g.Q; ++q) {
        const Span cols = window(q, g.S, g.stride_w, g.pad_w, g.W);
        float* out = yp + ((n * g.P + p) * g.Q + q) * C;
        std::fill(out, out + C, -std::numeric_limits<float>::infinity());
        for (int64_t h = rows.begin; h < rows.end; ++h) {
          for (int64_t w = cols.begin; w < cols.end; ++w) {
            const float* in = xp + ((n * g.H + h) * g.W + w) * C;
            for (int64_t c = 0; c < C; ++c)
              out[c] = (in[c] > out[c] || in[c] != in[c]) ? in[c] : out[c];
          }
        }
      }
    }
  }
}

void CpuBackend::max_pool2d_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                                     const PoolGeometry& g, Tensor& dx) {
  check_f32(dy, "dy");
  check_f32(x, "x");
  const float* dyp = dy.data<float>();
  const float* xp = x.data<float>();
  float* dxp = dx.data<float>();
  if (cpu::reference_kernels_enabled())
    return cpu::reference::max_pool2d_backward(dyp, xp, g, dxp);
  const int64_t C = g.C;
  // y is not needed: the maximum is found again from x. Windows overlap, so one thread owns one
  // whole image.
#pragma omp parallel if (dx.numel() >= cpu::kParallelThreshold)
  {
    std::vector<float> best(C);
    std::vector<int64_t> best_offset(C);  // element offset of the maximum in dx
#pragma omp for schedule(static)
    for (int64_t n = 0; n < g.N; ++n) {
      float* dx_image = dxp + n * g.H * g.W * C;
      std::memset(dx_image, 0, sizeof(float) * g.H * g.W * C);
      for (int64_t p = 0; p < g.P; ++p) {
        const Span rows = window(p, g.R, g.stride_h, g.pad_h, g.H);
        for (int64_t q = 0; q < g.Q; ++q) {
          const Span cols = window(q, g.S, g.stride_w, g.pad_w, g.W);
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          const int64_t first = ((n * g.H + rows.begin) * g.W + cols.begin) * C;
          for (int64_t c = 0; c < C; ++c) best_offset[c] = first + c;
          for (int64_t h = rows.begin; h < rows.end; ++h) {
            for (int64_t w = cols.begin; w < cols.end; ++w) {
              const int64_t offset = ((n * g.H + h) * g.W + w) * C;
              for (int64_t c = 0; c < C; ++c) {
                const float v = xp[offset + c];
                if (v > best[c] || v != v) {
                  best[c] = v;
                  best_offset[c] = offset + c;
                }
              }
            }
          }
          const float* grad = dyp + ((n * g.P + p) * g.Q + q) * C;
          for (int64_t c = 0; c < C; ++c) dxp[best_offset[c]] += grad[c];
        }
      }
    }
  }
}

void CpuBackend::avg_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) {
  check_f32(x, "x");
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  if (cpu::reference_kernels_enabled()) return cpu::reference::avg_pool2d_forward(xp, g, yp);
  const int64_t C = g.C;
#pragma omp parallel for collapse(2) schedule(static) if (x.numel() >= cpu::kParallelThreshold)
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t p = 0; p < g.P; ++p) {
      const Span rows = window(p, g.R, g.stride_h, g.pad_h, g.H);
      for (int64_t q = 0; q < g.Q; ++q) {
        const Span cols = window(q, g.S, g.stride_w, g.pad_w, g.W);
        float* out = yp + ((n * g.P + p) * g.Q + q) * C;
        std::fill(out, out + C, 0.0f);
        for (int64_t h = rows.begin; h < rows.end; ++h) {
          for (int64_t w = cols.begin; w < cols.end; ++w) {
            const float* in = xp + ((n * g.H + h) * g.W + w) * C;
            for (int64_t c = 0; c < C; ++c) out[c] += in[c];
          }
        }
        const float inv_divisor =
            1.0f / static_cast<float>(rows.padded_length * cols.padded_length);
        for (int64_t c = 0; c < C; ++c) out[c] *= inv_divisor;
      }
    }
  }
}

void CpuBackend::avg_pool2d_backward(const Tensor& dy, const PoolGeometry& g, Tensor& dx) {
  check_f32(dy, "dy");
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  if (cpu::reference_kernels_enabled()) return cpu::reference::avg_pool2d_backward(dyp, g, dxp);
  const int64_t C = g.C;
  // Every cell of a window receives dy / divisor; windows overlap, so one thread per image.
#pragma omp parallel for schedule(static) if (dx.numel() >= cpu::kParallelThreshold)
  for (int64_t n = 0; n < g.N; ++n) {
    std::memset(dxp + n * g.H * g.W * C, 0, sizeof(float) * g.H * g.W * C);
    for (int64_t p = 0; p < g.P; ++p) {
      const Span rows = window(p, g.R, g.stride_h, g.pad_h, g.H);
      for (int64_t q = 0; q < g.Q; ++q) {
        const Span cols = window(q, g.S, g.stride_w, g.pad_w, g.W);
        const float inv_divisor =
            1.0f / static_cast<float>(rows.padded_length * cols.padded_length);
        const float* grad = dyp + ((n * g.P + p) * g.Q + q) * C;
        for (int64_t h = rows.begin; h < rows.end; ++h) {
          for (int64_t w = cols.begin; w < cols.end; ++w) {
            float* out = dxp + ((n * g.H + h) * g.W + w) * C;
            for (int64_t c = 0; c < C; ++c) out[c] += grad[c] * inv_divisor;
          }
        }
      }
    }
  }
}

}  // namespace remix
