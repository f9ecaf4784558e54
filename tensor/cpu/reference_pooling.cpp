// The naive definitions of pooling and ROI-Align (see reference.h): one output element at a
// time, channel by channel, every window cell visited by its tap, sums in double.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/cpu/reference.h"

namespace remix::cpu::reference {
namespace {

int64_t nhwc(int64_t n, int64_t h, int64_t w, int64_t c, int64_t H, int64_t W, int64_t C) {
  return ((n * H + h) * W + w) * C + c;
}

// Tap (r, s) of output pixel (p, q) reads input (p * stride_h - pad_h + r, q * stride_w -
// pad_w + s); taps in the padding read nothing. Calls visit(x_index) for the cells that exist,
// rows first.
template <class Visit>
void for_each_tap(const PoolGeometry& g, int64_t n, int64_t p, int64_t q, int64_t c, Visit visit) {
  for (int64_t r = 0; r < g.R; ++r)
    for (int64_t s = 0; s < g.S; ++s) {
      const int64_t h = p * g.stride_h - g.pad_h + r, w = q * g.stride_w - g.pad_w + s;
      if (h >= 0 && h < g.H && w >= 0 && w < g.W) visit(nhwc(n, h, w, c, g.H, g.W, g.C));
    }
}

// count_include_pad: the window's cells inside the padded input, (H + pad_h) x (W + pad_w); a
// ceil_mode window hanging past it is cut there.
double average_divisor(const PoolGeometry& g, int64_t p, int64_t q) {
  const int64_t h0 = p * g.stride_h - g.pad_h, w0 = q * g.stride_w - g.pad_w;
  const int64_t rows = std::min(h0 + g.R, g.H + g.pad_h) - h0;
  const int64_t cols = std::min(w0 + g.S, g.W + g.pad_w) - w0;
  return double(rows) * double(cols);
}

// The input index of the first maximum of a window; NaN counts as larger than anything (and a
// later NaN as larger than an earlier one), as in PyTorch.
int64_t first_maximum(const float* x, const PoolGeometry& g, int64_t n, int64_t p, int64_t q,
                      int64_t c) {
  int64_t best = -1;
  for_each_tap(g, n, p, q, c, [&](int64_t i) {
    if (best < 0 || x[i] > x[best] || std::isnan(x[i])) best = i;
  });
  return best;
}

template <class Visit>  // visit(y_index, p, q) for every output element
void for_each_output(const PoolGeometry& g, Visit visit) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t p = 0; p < g.P; ++p)
      for (int64_t q = 0; q < g.Q; ++q)
        for (int64_t c = 0; c < g.C; ++c) visit(nhwc(n, p, q, c, g.P, g.Q, g.C), n, p, q, c);
}

}  // namespace

void max_pool2d_forward(const float* x, const PoolGeometry& g, float* y) {
  for_each_output(g, [&](int64_t yi, int64_t n, int64_t p, int64_t q, int64_t c) {
    const int64_t i = first_maximum(x, g, n, p, q, c);
    y[yi] = i < 0 ? -std::numeric_limits<float>::infinity() : x[i];
  });
}

void max_pool2d_backward(const float* dy, const float* x, const PoolGeometry& g, float* dx) {
  std::vector<double> sum(static_cast<size_t>(g.N * g.H * g.W * g.C), 0.0);
  for_each_output(g, [&](int64_t yi, int64_t n, int64_t p, int64_t q, int64_t c) {
    const int64_t i = first_maximum(x, g, n, p, q, c);
    if (i >= 0) sum[i] += dy[yi];
  });
  std::copy(sum.begin(), sum.end(), dx);
}

void avg_pool2d_forward(const float* x, const PoolGeometry& g, float* y) {
  for_each_output(g, [&](int64_t yi, int64_t n, int64_t p, int64_t q, int64_t c) {
    double total = 0.0;
    for_each_tap(g, n, p, q, c, [&](int64_t i) { total += x[i]; });
    y[yi] = static_cast<float>(total / average_divisor(g, p, q));
  });
}

void avg_pool2d_backward(const float* dy, const PoolGeometry& g, float* dx) {
  std::vector<double> sum(static_cast<size_t>(g.N * g.H * g.W * g.C), 0.0);
  for_each_output(g, [&](int64_t yi, int64_t n, int64_t p, int64_t q, int64_t c) {
    const double share = dy[yi] / average_divisor(g, p, q);
    for_each_tap(g, n, p, q, c, [&](int64_t i) { sum[i] += share; });
  });
  std::copy(sum.begin(), sum.end(), dx);
}

namespace {

// The four pixels around (y, x) and their bilinear weights, by torchvision's rule: nothing (all
// weights 0) more than one pixel outside the map; inside that margin the point is clamped to the
// map, and on the last row (column) both neighbours are that row (column).
struct Corner {
  int64_t h = 0, w = 0;
  double weight = 0;
};
std::array<Corner, 4> bilinear_corners(double y, double x, int64_t H, int64_t W) {
  if (y < -1.0 || y > double(H) || x < -1.0 || x > double(W)) return {};
  y = std::clamp(y, 0.0, double(H - 1));
  x = std::clamp(x, 0.0, double(W - 1));
  const int64_t top = static_cast<int64_t>(y), left = static_cast<int64_t>(x);
  const int64_t bottom = std::min(top + 1, H - 1), right = std::min(left + 1, W - 1);
  const double dy = y - double(top), dx = x - double(left);
  return {{{top, left, (1 - dy) * (1 - dx)},
           {top, right, (1 - dy) * dx},
           {bottom, left, dy * (1 - dx)},
           {bottom, right, dy * dx}}};
}

// Bin (ph, pw) of box b: the centres of a grid_h x grid_w sub-grid of the bin, in feature-map
// coordinates, each sample weighing 1 / (grid_h * grid_w). Calls visit(corner, weight).
template <class Visit>
void for_each_sample(const float* box, const RoiAlignParams& p, int64_t H, int64_t W, int64_t ph,
                     int64_t pw, Visit visit) {
  const double offset = p.aligned ? 0.5 : 0.0;
  const double left = box[0] * p.spatial_scale - offset, top = box[1] * p.spatial_scale - offset;
  double width = box[2] * p.spatial_scale - offset - left;
  double height = box[3] * p.spatial_scale - offset - top;
  if (!p.aligned) width = std::max(width, 1.0), height = std::max(height, 1.0);
  const double bin_h = height / double(p.out_h), bin_w = width / double(p.out_w);
  const int64_t grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : int64_t(std::ceil(bin_h));
  const int64_t grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : int64_t(std::ceil(bin_w));
  const double count = double(std::max<int64_t>(grid_h * grid_w, 1));
  for (int64_t iy = 0; iy < grid_h; ++iy)
    for (int64_t ix = 0; ix < grid_w; ++ix) {
      const double y = top + bin_h * (double(ph) + (double(iy) + 0.5) / double(grid_h));
      const double x = left + bin_w * (double(pw) + (double(ix) + 0.5) / double(grid_w));
      for (const Corner& corner : bilinear_corners(y, x, H, W))
        visit(corner, corner.weight / count);
    }
}

}  // namespace

void roi_align_forward(const float* x, const float* boxes, const RoiAlignParams& p, int64_t N,
                       int64_t H, int64_t W, int64_t C, float* y) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ph = 0; ph < p.out_h; ++ph)
      for (int64_t pw = 0; pw < p.out_w; ++pw)
        for (int64_t c = 0; c < C; ++c) {
          double total = 0.0;
          for_each_sample(boxes + n * 4, p, H, W, ph, pw, [&](const Corner& k, double weight) {
            total += weight * x[nhwc(n, k.h, k.w, c, H, W, C)];
          });
          y[nhwc(n, ph, pw, c, p.out_h, p.out_w, C)] = static_cast<float>(total);
        }
}

// The adjoint of the forward loops: each sample sends dy times its weight to its four pixels.
void roi_align_backward(const float* dy, const float* boxes, const RoiAlignParams& p, int64_t N,
                        int64_t H, int64_t W, int64_t C, float* dx) {
  std::vector<double> sum(static_cast<size_t>(N * H * W * C), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ph = 0; ph < p.out_h; ++ph)
      for (int64_t pw = 0; pw < p.out_w; ++pw)
        for (int64_t c = 0; c < C; ++c) {
          const double grad = dy[nhwc(n, ph, pw, c, p.out_h, p.out_w, C)];
          for_each_sample(boxes + n * 4, p, H, W, ph, pw, [&](const Corner& k, double weight) {
            sum[nhwc(n, k.h, k.w, c, H, W, C)] += weight * grad;
          });
        }
  std::copy(sum.begin(), sum.end(), dx);
}

}  // namespace remix::cpu::reference
