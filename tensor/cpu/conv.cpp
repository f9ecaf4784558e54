// 2-D convolution on the CPU: NHWC input x (N x H x W x C), KRSC weight w (K x R x S x C),
// NHWC output y (N x P x Q x K), all f32.
//
// Everything is a matrix product (remix::cpu::sgemm):
// - A 1x1, stride-1, unpadded convolution already is one: x viewed as [N*H*W, C] times w^T.
// - Any other one goes through im2col. Row (n, p, q) of the column matrix holds the R x S x C
//   input patch under output pixel (p, q) of image n, in (r, s, c) order; because x is NHWC, the
//   S x C values of one kernel row are contiguous in x, so building a row is a few memcpys. Then
//     forward          y[rows, K]      = col[rows, RSC] @ w[K, RSC]^T
//     backward data    col[rows, RSC]  = dy[rows, K] @ w[K, RSC],  then col2im sums col into dx
//     backward filter  dw[K, RSC]     += dy[rows, K]^T @ col[rows, RSC]
// The batch is processed a chunk of images at a time so that the column buffer stays bounded
// (kColumnBudgetBytes) while each GEMM still has many rows to spread over the threads.
#include <algorithm>
#include <cstring>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/parallel.h"

namespace remix {
namespace {

constexpr int64_t kColumnBudgetBytes = int64_t{16} << 20;

void check_f32(const Tensor& t, const char* what) {
  REMIX_CHECK(t.dtype() == DType::f32, "conv2d on the CPU computes in f32, but {} is {}", what,
              dtype_name(t.dtype()));
}

bool is_pointwise(const Conv2dGeometry& g) {
  return g.R == 1 && g.S == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}

// The shape of the im2col work: how many images share one column buffer.
struct ColumnPlan {
  int64_t rows_per_image = 0;  // P * Q
  int64_t cols = 0;            // R * S * C
  int64_t images_per_chunk = 0;
};

ColumnPlan plan_columns(const Conv2dGeometry& g) {
  ColumnPlan plan;
  plan.rows_per_image = g.P * g.Q;
  plan.cols = g.R * g.S * g.C;
  const int64_t bytes_per_image = std::max<int64_t>(plan.rows_per_image * plan.cols * 4, 1);
  plan.images_per_chunk = std::max<int64_t>(std::min(kColumnBudgetBytes / bytes_per_image, g.N), 1);
  return plan;
}

// Fills the column rows of images [n0, n0 + count): zeros where the patch covers padding.
void im2col(const float* x, const Conv2dGeometry& g, int64_t n0, int64_t count, float* col) {
  const int64_t cols = g.R * g.S * g.C;
  const int64_t rows = count * g.P * g.Q;
#pragma omp parallel for schedule(static) if (rows * cols >= cpu::kParallelThreshold)
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t n = n0 + row / (g.P * g.Q);
    const int64_t p = row / g.Q % g.P, q = row % g.Q;
    const int64_t w0 = q * g.stride_w - g.pad_w;
    // Kernel columns s in [s_lo, s_hi) land inside the image.
    const int64_t s_lo = std::clamp<int64_t>(-w0, 0, g.S);
    const int64_t s_hi = std::clamp<int64_t>(g.W - w0, s_lo, g.S);
    float* out = col + row * cols;
    for (int64_t r = 0; r < g.R; ++r, out += g.S * g.C) {
      const int64_t h = p * g.stride_h - g.pad_h + r;
      if (h < 0 || h >= g.H) {
        std::memset(out, 0, sizeof(float) * g.S * g.C);
        continue;
      }
      std::memset(out, 0, sizeof(float) * s_lo * g.C);
      if (s_hi > s_lo)
        std::memcpy(out + s_lo * g.C, x + ((n * g.H + h) * g.W + w0 + s_lo) * g.C,
                    sizeof(float) * (s_hi - s_lo) * g.C);
      std::memset(out + s_hi * g.C, 0, sizeof(float) * (g.S - s_hi) * g.C);
    }
  }
}

// The adjoint of im2col for images [n0, n0 + count): every input pixel receives the sum of the
// column entries that were copied from it. Written as a gather (each pixel adds up the (p, q, r, s)
// that saw it: h = p * stride_h - pad_h + r), so that threads never write the same pixel.
void col2im(const float* col, const Conv2dGeometry& g, int64_t n0, int64_t count, float* dx) {
  const int64_t cols = g.R * g.S * g.C;
  const bool parallel = count * g.H * g.W * cols >= cpu::kParallelThreshold;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t h = 0; h < g.H; ++h) {
      for (int64_t w = 0; w < g.W; ++w) {
        float* out = dx + (((n0 + i) * g.H + h) * g.W + w) * g.C;
        std::fill(out, out + g.C, 0.0f);
        for (int64_t r = 0; r < g.R; ++r) {
          const int64_t ph = h + g.pad_h - r;  // = p * stride_h when (p, r) sees row h
          if (ph < 0 || ph % g.stride_h != 0 || ph / g.stride_h >= g.P) continue;
          const int64_t p = ph / g.stride_h;
          for (int64_t s = 0; s < g.S; ++s) {
            const int64_t qw = w + g.pad_w - s;
            if (qw < 0 || qw % g.stride_w != 0 || qw / g.stride_w >= g.Q) continue;
            const int64_t q = qw / g.stride_w;
            const float* src = col + ((i * g.P + p) * g.Q + q) * cols + (r * g.S + s) * g.C;
            for (int64_t c = 0; c < g.C; ++c) out[c] += src[c];
          }
        }
      }
    }
  }
}

}  // namespace

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g,
                                Tensor& y) {
  check_f32(x, "x");
  check_f32(w, "w");
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  if (is_pointwise(g)) {  // y[NHW, K] = x[NHW, C] @ w[K, C]^T
    cpu::sgemm(false, true, g.N * g.H * g.W, g.K, g.C, 1.0f, xp, g.C, wp, g.C, 0.0f, yp, g.K);
    return;
  }
  const ColumnPlan plan = plan_columns(g);
  Tensor col({plan.images_per_chunk * plan.rows_per_image, plan.cols});
  for (int64_t n0 = 0; n0 < g.N; n0 += plan.images_per_chunk) {
    const int64_t count = std::min(plan.images_per_chunk, g.N - n0);
    im2col(xp, g, n0, count, col.data<float>());
    cpu::sgemm(false, true, count * plan.rows_per_image, g.K, plan.cols, 1.0f, col.data<float>(),
               plan.cols, wp, plan.cols, 0.0f, yp + n0 * plan.rows_per_image * g.K, g.K);
  }
}

void CpuBackend::conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g,
                                      Tensor& dx) {
  check_f32(dy, "dy");
  check_f32(w, "w");
  const float* dyp = dy.data<float>();
  const float* wp = w.data<float>();
  float* dxp = dx.data<float>();
  if (is_pointwise(g)) {  // dx[NHW, C] = dy[NHW, K] @ w[K, C]
    cpu::sgemm(false, false, g.N * g.H * g.W, g.C, g.K, 1.0f, dyp, g.K, wp, g.C, 0.0f, dxp, g.C);
    return;
  }
  const ColumnPlan plan = plan_columns(g);
  Tensor col({plan.images_per_chunk * plan.rows_per_image, plan.cols});
  for (int64_t n0 = 0; n0 < g.N; n0 += plan.images_per_chunk) {
    const int64_t count = std::min(plan.images_per_chunk, g.N - n0);
    cpu::sgemm(false, false, count * plan.rows_per_image, plan.cols, g.K, 1.0f,
               dyp + n0 * plan.rows_per_image * g.K, g.K, wp, plan.cols, 0.0f, col.data<float>(),
               plan.cols);
    col2im(col.data<float>(), g, n0, count, dxp);
  }
}

void CpuBackend::conv2d_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g,
                                        Tensor& dw) {
  check_f32(dy, "dy");
  check_f32(x, "x");
  const float* dyp = dy.data<float>();
  const float* xp = x.data<float>();
  float* dwp = dw.data<float>();
  if (g.N == 0) {  // an empty batch contributes nothing
    std::fill(dwp, dwp + dw.numel(), 0.0f);
    return;
  }
  if (is_pointwise(g)) {  // dw[K, C] = dy[NHW, K]^T @ x[NHW, C]
    cpu::sgemm(true, false, g.K, g.C, g.N * g.H * g.W, 1.0f, dyp, g.K, xp, g.C, 0.0f, dwp, g.C);
    return;
  }
  const ColumnPlan plan = plan_columns(g);
  Tensor col({plan.images_per_chunk * plan.rows_per_image, plan.cols});
  for (int64_t n0 = 0; n0 < g.N; n0 += plan.images_per_chunk) {
    const int64_t count = std::min(plan.images_per_chunk, g.N - n0);
    im2col(xp, g, n0, count, col.data<float>());
    const float beta = n0 == 0 ? 0.0f : 1.0f;  // the first chunk overwrites, later ones add
    cpu::sgemm(true, false, g.K, plan.cols, count * plan.rows_per_image, 1.0f,
               dyp + n0 * plan.rows_per_image * g.K, g.K, col.data<float>(), plan.cols, beta, dwp,
               plan.cols);
  }
}

}  // namespace remix
