// 2-D convolution on the CPU: NHWC input x (N x H x W x C), KRSC weight w (K x R x S x C),
// NHWC output y (N x P x Q x K), all f32. The definitions, as loops, are in reference.cpp:
//   y[n,p,q,k]  = sum over r,s,c of x[n, p*sh - ph + r, q*sw - pw + s, c] * w[k,r,s,c]
//   dx[n,h,w,c] = sum over the (p,q,r,s,k) with h = p*sh - ph + r, w = q*sw - pw + s
//                 of dy[n,p,q,k] * w[k,r,s,c]
//   dw[k,r,s,c] = sum over n,p,q of dy[n,p,q,k] * x[n, p*sh - ph + r, q*sw - pw + s, c]
//
// How it is computed fast, with no im2col matrix:
// - A 1x1, stride-1, unpadded convolution is a matrix product (remix::cpu::sgemm) as it stands.
// - The forward pass and backward-data are direct convolutions on "channel planes" (below):
//   one image at a time is laid out channel by channel, split into its stride phases and zero
//   padded, so that for every tap (r, s) and channel c the inputs of consecutive output pixels
//   are consecutive floats. A micro-kernel (conv_kernel.h) then keeps a tile of MR pixels by NR
//   output channels in registers and runs over taps and channels, broadcasting one input value
//   against one row of packed weights per step: an implicit matrix product, its A operand read
//   in place. A tile either runs along the flattened plane, across the end of an output row into
//   the padding columns (whose results are simply not stored), or starts at a row's first pixel
//   when the tile width divides the row; conv_plan.cpp picks what computes least. Small images
//   interleave the whole batch instead, a tile taking MR images at one pixel, and their border
//   pixels skip the taps that read only padding (a 4 x 4 output with a 3 x 3 kernel: 44 of 144).
// - Backward-data of a stride-1 convolution is the convolution of dy with the flipped kernel
//   (pad R - 1 - ph); with stride s, each of the s x s phases of dx (h % s, w % s) is such a
//   convolution with the taps that reach it. No col2im, no atomic adds: every dx pixel is
//   written once.
// - Backward-filter (conv_filter.cpp) sums dy x patch products over pixels, a tile of dw in
//   registers, skipping the pixels whose patch row or columns lie in the padding.
// Images are shared out over the threads; a batch smaller than the team, or an interleaved one,
// shares out the tiles instead.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "tensor/cpu/conv_plan.h"
#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/reference.h"
#include "tensor/cpu/scratch.h"

namespace remix {
namespace cpu {
namespace {

// -------------------------------------------------------------------------- channel planes

// plane(c, a, b)[u][v] = src[u * stride_h + a - pad_top][v * stride_w + b - pad_left][c], zero
// outside the image; then zeros to the end of the channel's block (tiles may read past it).

// Columns v in [v0, v1) of phase b fall inside the image: w = v * stride_w + b - pad_left in [0,
// W).
std::pair<int64_t, int64_t> inside_columns(int64_t W, const PlaneLayout& L, int64_t b) {
  const int64_t v0 =
      std::clamp<int64_t>((L.pad_left - b + L.stride_w - 1) / L.stride_w, 0, L.width);
  const int64_t v1 =
      std::clamp<int64_t>((W + L.pad_left - b + L.stride_w - 1) / L.stride_w, v0, L.width);
  return {v0, v1};
}

// Zeros where the planes hold padding: rows outside the image, columns outside it, and the
// floats after the last plane (tiles read past it). Interleaved planes (small images) are
// simply zeroed whole.
void zero_padding(int64_t H, int64_t W, int64_t C, const PlaneLayout& L, float* dst) {
  if (L.batch > 1) {
    std::fill(dst, dst + L.floats, 0.0f);
    return;
  }
  const int64_t plane = L.height * L.width;
  for (int64_t c = 0; c < C; ++c) {
    float* channel = dst + c * L.channel_stride;
    for (int64_t a = 0; a < L.phases_h; ++a) {
      for (int64_t b = 0; b < L.phases_w; ++b) {
        const auto [v0, v1] = inside_columns(W, L, b);
        for (int64_t u = 0; u < L.height; ++u) {
          float* row = channel + (a * L.phases_w + b) * plane + u * L.width;
          const int64_t h = u * L.stride_h + a - L.pad_top;
          if (h < 0 || h >= H) {
            std::fill(row, row + L.width, 0.0f);
          } else {
            std::fill(row, row + v0, 0.0f);
            std::fill(row + v1, row + L.width, 0.0f);
          }
        }
      }
    }
    std::fill(channel + L.positions(), channel + L.channel_stride, 0.0f);
  }
}

// Image n's values inside the image into planes that interleave the batch (zero_padding writes
// the rest). A plain scatter: it is used for small images, where it costs little.
void fill_interleaved_planes(const float* src, int64_t n, int64_t H, int64_t W, int64_t C,
                             const PlaneLayout& L, float* dst) {
  for (int64_t a = 0; a < L.phases_h; ++a) {
    for (int64_t b = 0; b < L.phases_w; ++b) {
      const auto [v0, v1] = inside_columns(W, L, b);
      for (int64_t u = 0; u < L.height; ++u) {
        const int64_t h = u * L.stride_h + a - L.pad_top;
        if (h < 0 || h >= H) continue;
        for (int64_t v = v0; v < v1; ++v) {
          const float* pixel = src + (h * W + v * L.stride_w + b - L.pad_left) * C;
          const int64_t position = ((a * L.phases_w + b) * L.height + u) * L.width + v;
          float* out = dst + position * L.position_stride + n;
          for (int64_t c = 0; c < C; ++c) out[c * L.channel_stride] = pixel[c];
        }
      }
    }
  }
}

// The planes' values inside the image, from one NHWC image (zero_padding writes the rest).
void fill_planes(const float* src, int64_t H, int64_t W, int64_t C, const PlaneLayout& L,
                 float* dst) {
  const detail::ConvKernels& kernels = active_conv_kernels();
  const int64_t block = kernels.width, plane = L.height * L.width, stride = L.stride_w * C;
  for (int64_t a = 0; a < L.phases_h; ++a) {
    for (int64_t b = 0; b < L.phases_w; ++b) {
      const auto [v0, v1] = inside_columns(W, L, b);
      for (int64_t u = 0; u < L.height; ++u) {
        const int64_t h = u * L.stride_h + a - L.pad_top;
        if (h < 0 || h >= H) continue;
        float* out = dst + (a * L.phases_w + b) * plane + u * L.width + v0;  // channel 0
        const float* in = src + (h * W + v0 * L.stride_w + b - L.pad_left) * C;
        // `block` channels at a time, transposed in registers. The zeros a partial block writes
        // past v1 land in this row's right padding and the next row (filled after this one), or
        // in the slack after the channel's last plane.
        int64_t c = 0;
        for (; c + block <= C; c += block)
          kernels.transpose_rows(in + c, stride, v1 - v0, out + c * L.channel_stride,
                                 L.channel_stride);
        for (; c < C; ++c)
          for (int64_t v = 0; v < v1 - v0; ++v) out[c * L.channel_stride + v] = in[v * stride + c];
      }
    }
  }
}

// A thread's planes, kept between calls. The padding is zeroed only when the layout changes:
// the values inside the image never overwrite it.
struct PlaneBuffer {
  ScratchBuffer buffer;
  PlaneLayout layout;
  int64_t H = -1, W = -1, C = -1;

  float* prepare(const PlaneLayout& L, int64_t h, int64_t w, int64_t c) {
    const bool grows = L.floats > buffer.capacity();  // then the old contents are gone
    float* data = buffer.reserve(L.floats);
    if (grows || !(L == layout) || h != H || w != W || c != C) {
      zero_padding(h, w, c, L, data);
      layout = L, H = h, W = w, C = c;
    }
    return data;
  }
};

// ----------------------------------------------------------------------------- output tiles

// Runs tiles [first, last) (numbered pass by pass) of the planes, writing into `out`: the
// output of the image, or of the batch when the planes interleave it. The sum over taps and
// channels is cut into chunks whose packed weights fit in L1 (plan.chunk_taps x
// plan.chunk_channels x NR floats), outermost, so that a chunk's planes and weights are reused
// by every sliver and tile; tiles after the first chunk add to the output.
void run_tiles(const OutputPlan& plan, const float* planes, float* out, int64_t first,
               int64_t last) {
  const int64_t mr = plan.shape.mr, C = plan.in_channels;
  // Where each tile starts and writes, found once rather than for every chunk and sliver.
  thread_local std::vector<int64_t> starts;
  thread_local std::vector<float*> targets;
  starts.resize(static_cast<size_t>(std::max<int64_t>(last - first, 0)));
  targets.resize(starts.size() * mr);
  for (int64_t base = 0; const OutputPass& pass : plan.passes) {
    const int64_t tiles = plan.tiles(pass);
    for (int64_t t = std::max(first - base, int64_t{0}); t < std::min(last - base, tiles); ++t) {
      const int64_t i = base + t - first;
      starts[i] = plan.tile_start(pass, t);
      plan.output_rows(pass, out, starts[i], targets.data() + i * mr);
    }
    base += tiles;
  }
  float* rows[detail::kMaxOutputTileRows];
  for (int64_t c0 = 0; c0 < C; c0 += plan.chunk_channels) {
    const int64_t channels = std::min(plan.chunk_channels, C - c0);
    for (int64_t base = 0; const OutputPass& pass : plan.passes) {
      const int64_t tiles = plan.tiles(pass), taps = static_cast<int64_t>(pass.tap_offsets.size());
      const int64_t begin = std::max(first - base, int64_t{0}), end = std::min(last - base, tiles);
      const int64_t index = base - first;  // of the pass's tile 0 in starts
      base += tiles;
      for (int64_t tap0 = 0; tap0 < std::max(taps, int64_t{1}); tap0 += plan.chunk_taps) {
        const bool accumulate = c0 > 0 || tap0 > 0;
        for (int64_t j = 0; j * plan.nr < plan.out_channels; ++j) {
          const int64_t column = j * plan.nr, cols = std::min(plan.nr, plan.out_channels - column);
          for (int64_t t = begin; t < end; ++t) {
            float* const* target = targets.data() + (index + t) * mr;
            for (int64_t i = 0; i < mr; ++i) rows[i] = target[i] ? target[i] + column : nullptr;
            if (taps == 0) {  // pixels no tap reaches (a phase, or a class all padding): zero
              for (int64_t i = 0; i < mr; ++i)
                if (rows[i] && !accumulate) std::fill(rows[i], rows[i] + cols, 0.0f);
              continue;
            }
            plan.shape.run({planes + starts[index + t] + c0 * plan.layout.channel_stride,
                            plan.layout.channel_stride, channels, pass.tap_offsets.data() + tap0,
                            pass.tap_ids.data() + tap0, std::min(plan.chunk_taps, taps - tap0),
                            plan.sliver(pass, j) + c0 * plan.nr, C * plan.nr, rows, cols,
                            accumulate});
          }
        }
      }
    }
  }
}

// Every image of `in` (N x H x W x C) through the plan, into `out` (N x out_h x out_w x K).
void run_output_plan(const OutputPlan& plan, const float* in, int64_t N, int64_t H, int64_t W,
                     int64_t C, float* out) {
  const int64_t in_image = H * W * C, out_image = plan.out_h * plan.out_w * plan.out_channels;
  const int64_t tiles = plan.total_tiles();
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (plan.layout.batch > 1) {  // one set of planes for the batch, its tiles shared out
    thread_local PlaneBuffer buffer;
    float* planes = buffer.prepare(plan.layout, H, W, C);
#pragma omp parallel num_threads(threads)
    {
      const int64_t team = omp_get_num_threads(), me = omp_get_thread_num();
      for (int64_t n = N * me / team; n < N * (me + 1) / team; ++n)
        fill_interleaved_planes(in + n * in_image, n, H, W, C, plan.layout, planes);
#pragma omp barrier
      run_tiles(plan, planes, out, tiles * me / team, tiles * (me + 1) / team);
    }
    return;
  }
  if (N >= threads) {  // each thread its images, each image in the thread's own planes
#pragma omp parallel num_threads(threads)
    {
      thread_local PlaneBuffer buffer;
      float* planes = buffer.prepare(plan.layout, H, W, C);
      const int64_t team = omp_get_num_threads(), me = omp_get_thread_num();
      for (int64_t n = N * me / team; n < N * (me + 1) / team; ++n) {
        fill_planes(in + n * in_image, H, W, C, plan.layout, planes);
        run_tiles(plan, planes, out + n * out_image, 0, tiles);
      }
    }
    return;
  }
  thread_local PlaneBuffer buffer;  // few images: every thread works on each one in turn
  float* planes = buffer.prepare(plan.layout, H, W, C);
  for (int64_t n = 0; n < N; ++n) {
    fill_planes(in + n * in_image, H, W, C, plan.layout, planes);
#pragma omp parallel num_threads(threads)
    {
      const int64_t team = omp_get_num_threads(), me = omp_get_thread_num();
      run_tiles(plan, planes, out + n * out_image, tiles * me / team, tiles * (me + 1) / team);
    }
  }
}

bool is_pointwise(const Conv2dGeometry& g) {
  return g.R == 1 && g.S == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}

void check_f32(const Tensor& t, const char* what) {
  REMIX_CHECK(t.dtype() == DType::f32, "conv2d on the CPU computes in f32, but {} is {}", what,
              dtype_name(t.dtype()));
}

}  // namespace
}  // namespace cpu

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g,
                                Tensor& y) {
  cpu::check_f32(x, "x");
  cpu::check_f32(w, "w");
  const float *xp = x.data<float>(), *wp = w.data<float>();
  float* yp = y.data<float>();
  if (cpu::reference_kernels_enabled()) return cpu::reference::conv2d_forward(xp, wp, g, yp);
  if (cpu::is_pointwise(g)) {  // y[NHW, K] = x[NHW, C] @ w[K, C]^T
    cpu::sgemm(false, true, g.N * g.H * g.W, g.K, g.C, 1.0f, xp, g.C, wp, g.C, 0.0f, yp, g.K);
    return;
  }
  const cpu::OutputPlan plan = cpu::forward_plan(g, wp);
  cpu::run_output_plan(plan, xp, g.N, g.H, g.W, g.C, yp);
}

void CpuBackend::conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g,
                                      Tensor& dx) {
  cpu::check_f32(dy, "dy");
  cpu::check_f32(w, "w");
  const float *dyp = dy.data<float>(), *wp = w.data<float>();
  float* dxp = dx.data<float>();
  if (cpu::reference_kernels_enabled())
    return cpu::reference::conv2d_backward_data(dyp, wp, g, dxp);
  if (cpu::is_pointwise(g)) {  // dx[NHW, C] = dy[NHW, K] @ w[K, C]
    cpu::sgemm(false, false, g.N * g.H * g.W, g.C, g.K, 1.0f, dyp, g.K, wp, g.C, 0.0f, dxp, g.C);
    return;
  }
  const cpu::OutputPlan plan = cpu::backward_data_plan(g, wp);
  cpu::run_output_plan(plan, dyp, g.N, g.P, g.Q, g.K, dxp);
}

void CpuBackend::conv2d_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g,
                                        Tensor& dw) {
  cpu::check_f32(dy, "dy");
  cpu::check_f32(x, "x");
  const float *dyp = dy.data<float>(), *xp = x.data<float>();
  float* dwp = dw.data<float>();
  if (cpu::reference_kernels_enabled())
    return cpu::reference::conv2d_backward_filter(dyp, xp, g, dwp);
  if (g.N == 0) {  // an empty batch contributes nothing
    std::fill(dwp, dwp + dw.numel(), 0.0f);
    return;
  }
  if (cpu::is_pointwise(g)) {  // dw[K, C] = dy[NHW, K]^T @ x[NHW, C]
    cpu::sgemm(true, false, g.K, g.C, g.N * g.H * g.W, 1.0f, dyp, g.K, xp, g.C, 0.0f, dwp, g.C);
    return;
  }
  cpu::conv2d_filter_gradient(dyp, xp, g, dwp);
}

}  // namespace remix
