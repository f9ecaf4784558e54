// Backward-filter of a convolution on the CPU, with no im2col matrix:
//   dw[k, r, s, c] = sum over n, p, q of dy[n, p, q, k] * x[n, p*sh - ph + r, q*sw - pw + s, c]
// (the loops are in reference.cpp). For a fixed kernel row r, the S x C inputs under output
// pixel (p, q) are S * C consecutive floats of the zero-padded NHWC image, row p*sh + r from
// column q*sw on: dw[k, r, :, :] is a sum over pixels of dy[pixel, k] times that run of floats.
// A micro-kernel (conv_kernel.h, filter tile) holds MR output channels by NV vectors of the run
// in registers and walks the pixels: one broadcast of dy and NV loads of x per step.
//
// Work is cut in bands of rows (a band of dy and x stays in L2 while every tile reads it), or in
// groups of whole images when images are small. Threads either take images, each summing into
// its own copy of dw (added up at the end), or take output channels when dw is too big to copy.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "tensor/cpu/conv_plan.h"
#include "tensor/cpu/scratch.h"

namespace remix::cpu {
namespace {

constexpr int64_t kBandBytes = 64 << 10;             // dy per band of rows
constexpr int64_t kMinPixelsPerTile = 256;           // below that, group whole images
constexpr int64_t kMaxCopyBytes = int64_t{1} << 20;  // per-thread dw copies up to this size

struct FilterPlan {
  detail::TileShape<detail::FilterTileFunction> shape;
  int64_t vector = 0;        // floats per tile row: NV * W
  int64_t kp = 0;            // output channels rounded up to MR
  int64_t run = 0;           // S * C, the floats under one kernel row
  int64_t run_padded = 0;    // rounded up to whole tile rows
  int64_t ldw = 0;           // R * run_padded: the stride of the accumulator's k rows
  int64_t hp = 0, wp = 0;    // the padded image's rows and columns that are read
  int64_t image_floats = 0;  // one padded image and the slack after it
  int64_t dy_pixel = 0;      // K, or kp when dy is copied to round K up
  int64_t group = 1;         // images per tile call
  int64_t band = 0;          // rows per tile call

  int64_t accumulator_floats() const { return kp * ldw; }
};

// The tile that pads the run of S * C floats least; ties go to the wider one.
FilterPlan make_plan(const Conv2dGeometry& g) {
  const detail::ConvKernels& kernels = active_conv_kernels();
  FilterPlan f;
  f.run = g.S * g.C;
  int64_t best_waste = -1;
  for (const auto& shape : kernels.filter) {
    const int64_t v = int64_t{shape.nv} * kernels.width;
    const int64_t waste = (f.run + v - 1) / v * v - f.run;
    if (best_waste < 0 || waste <= best_waste) f.shape = shape, best_waste = waste;
  }
  f.vector = int64_t{f.shape.nv} * kernels.width;
  f.kp = (g.K + f.shape.mr - 1) / f.shape.mr * f.shape.mr;
  f.run_padded = f.run + best_waste;
  f.ldw = g.R * f.run_padded;
  f.hp = (g.P - 1) * g.stride_h + g.R;
  f.wp = (g.Q - 1) * g.stride_w + g.S;
  f.image_floats = f.hp * f.wp * g.C + best_waste + 16;
  f.dy_pixel = g.K % f.shape.mr == 0 ? g.K : f.kp;
  const int64_t pixels = g.P * g.Q;
  f.group = pixels >= kMinPixelsPerTile ? 1 : (kMinPixelsPerTile + pixels - 1) / pixels;
  f.band = f.group > 1 ? g.P : std::clamp<int64_t>(kBandBytes / (g.Q * f.dy_pixel * 4), 1, g.P);
  return f;
}

// Images [n0, n0 + count) of x, zero padded: dst[i][u][v][c] = x[n0 + i][u - ph][v - pw][c].
void pad_images(const float* x, const Conv2dGeometry& g, const FilterPlan& f, int64_t n0,
                int64_t count, float* dst) {
  for (int64_t i = 0; i < count; ++i) {
    float* image = dst + i * f.image_floats;
    for (int64_t u = 0; u < f.hp; ++u) {
      float* row = image + u * f.wp * g.C;
      const int64_t h = u - g.pad_h;
      std::fill(row, row + f.wp * g.C, 0.0f);
      if (h < 0 || h >= g.H) continue;
      const int64_t v0 = std::max<int64_t>(g.pad_w, 0), v1 = std::min(f.wp, g.W + g.pad_w);
      if (v1 > v0)
        std::memcpy(row + v0 * g.C, x + (((n0 + i) * g.H + h) * g.W + v0 - g.pad_w) * g.C,
                    sizeof(float) * (v1 - v0) * g.C);
    }
    std::fill(image + f.hp * f.wp * g.C, image + f.image_floats, 0.0f);
  }
}

// dy of images [n0, n0 + count) with K rounded up to kp (zeros in the extra channels).
void pad_channels(const float* dy, const Conv2dGeometry& g, const FilterPlan& f, int64_t n0,
                  int64_t count, float* dst) {
  const int64_t pixels = count * g.P * g.Q;
  const float* src = dy + n0 * g.P * g.Q * g.K;
  for (int64_t i = 0; i < pixels; ++i) {
    std::memcpy(dst + i * f.kp, src + i * g.K, sizeof(float) * g.K);
    std::fill(dst + i * f.kp + g.K, dst + (i + 1) * f.kp, 0.0f);
  }
}

// The output pixels [lo, hi) of one axis whose tap `t` reads inside the image (size `in`):
// p * stride - pad + t in [0, in). The others read the zero padding and add nothing.
std::pair<int64_t, int64_t> reading_inside(int64_t out, int64_t in, int64_t stride, int64_t pad,
                                           int64_t t) {
  const auto ceil_div = [](int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; };
  const int64_t lo = std::min(ceil_div(pad - t, stride), out);
  return {lo, std::clamp(ceil_div(in + pad - t, stride), lo, out)};
}

// acc[k][r][run] += the sums of `count` images (padded x and dy as laid out above), for the
// k-blocks [kb0, kb1) of MR output channels. For each kernel row only the output rows whose
// input row lies inside the image are summed, and for each vector of the run only the columns
// where one of its kernel columns does (small images are mostly border: 4 x 4 outputs of a
// 3 x 3 kernel have 44 of their 144 products with padding).
void accumulate(const FilterPlan& f, const Conv2dGeometry& g, const float* x, const float* dy,
                int64_t count, int64_t kb0, int64_t kb1, float* acc) {
  const int64_t mr = f.shape.mr;
  for (int64_t p0 = 0; p0 < g.P; p0 += f.band) {
    const int64_t p1 = std::min(p0 + f.band, g.P);
    for (int64_t r = 0; r < g.R; ++r) {
      const auto [r_lo, r_hi] = reading_inside(g.P, g.H, g.stride_h, g.pad_h, r);
      const int64_t first_row = std::max(p0, r_lo), rows = std::min(p1, r_hi) - first_row;
      if (rows <= 0) continue;
      for (int64_t v0 = 0; v0 < f.run; v0 += f.vector) {
        const int64_t s_first = v0 / g.C, s_last = std::min(v0 + f.vector, f.run) - 1;
        const int64_t q0 = reading_inside(g.Q, g.W, g.stride_w, g.pad_w, s_last / g.C).first;
        const int64_t q1 = reading_inside(g.Q, g.W, g.stride_w, g.pad_w, s_first).second;
        if (q1 <= q0) continue;
        const int64_t pixel = first_row * g.Q + q0;
        for (int64_t kb = kb0; kb < kb1; ++kb) {
          const detail::FilterTileArgs args{
              dy + pixel * f.dy_pixel + kb * mr,
              f.dy_pixel,
              g.Q * f.dy_pixel,
              x + (first_row * g.stride_h + r) * f.wp * g.C + q0 * g.stride_w * g.C + v0,
              g.stride_w * g.C,
              g.stride_h * f.wp * g.C,
              rows,
              q1 - q0,
              count,
              g.P * g.Q * f.dy_pixel,
              f.image_floats,
              acc + kb * mr * f.ldw + r * f.run_padded + v0,
              f.ldw};
          f.shape.run(args);
        }
      }
    }
  }
}

// Sums images [n0, n1) into acc for k-blocks [kb0, kb1), a group of images at a time.
void accumulate_images(const FilterPlan& f, const Conv2dGeometry& g, const float* dy,
                       const float* x, int64_t n0, int64_t n1, int64_t kb0, int64_t kb1,
                       float* acc) {
  thread_local ScratchBuffer x_buffer, dy_buffer;
  float* xpad = x_buffer.reserve(f.group * f.image_floats);
  float* dypad = f.dy_pixel == g.K ? nullptr : dy_buffer.reserve(f.group * g.P * g.Q * f.kp);
  for (int64_t n = n0; n < n1; n += f.group) {
    const int64_t count = std::min(f.group, n1 - n);
    pad_images(x, g, f, n, count, xpad);
    const float* dyn = dy + n * g.P * g.Q * g.K;
    if (dypad != nullptr) {
      pad_channels(dy, g, f, n, count, dypad);
      dyn = dypad;
    }
    accumulate(f, g, xpad, dyn, count, kb0, kb1, acc);
  }
}

}  // namespace

void conv2d_filter_gradient(const float* dy, const float* x, const Conv2dGeometry& g, float* dw) {
  const FilterPlan f = make_plan(g);
  const int64_t acc_floats = f.accumulator_floats(), k_blocks = f.kp / f.shape.mr;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const bool split_channels = threads > 1 && k_blocks >= threads && acc_floats * 4 > kMaxCopyBytes;
  const int copies = split_channels ? 1 : threads;
  thread_local ScratchBuffer acc_buffer;
  float* const acc = acc_buffer.reserve(copies * acc_floats);

#pragma omp parallel num_threads(threads)
  {
    const int64_t team = omp_get_num_threads(), me = omp_get_thread_num();
    if (split_channels) {  // every image, this thread's output channels
      const int64_t kb0 = k_blocks * me / team, kb1 = k_blocks * (me + 1) / team;
      std::fill(acc + kb0 * f.shape.mr * f.ldw, acc + kb1 * f.shape.mr * f.ldw, 0.0f);
      accumulate_images(f, g, dy, x, 0, g.N, kb0, kb1, acc);
    } else {  // this thread's images, every output channel, into its own copy
      float* mine = acc + me * acc_floats;
      std::fill(mine, mine + acc_floats, 0.0f);
      accumulate_images(f, g, dy, x, g.N * me / team, g.N * (me + 1) / team, 0, k_blocks, mine);
    }
#pragma omp barrier
    // dw[k][r][s*C + c] = the sum of the copies, without the padding.
#pragma omp for schedule(static)
    for (int64_t k = 0; k < g.K; ++k) {
      for (int64_t r = 0; r < g.R; ++r) {
        float* out = dw + (k * g.R + r) * f.run;
        const float* first = acc + k * f.ldw + r * f.run_padded;
        std::copy(first, first + f.run, out);
        for (int64_t t = 1; t < team && !split_channels; ++t) {
          const float* other = first + t * acc_floats;
          for (int64_t i = 0; i < f.run; ++i) out[i] += other[i];
        }
      }
    }
  }
}

}  // namespace remix::cpu
