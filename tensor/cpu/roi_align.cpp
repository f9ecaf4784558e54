// ROI-Align on the CPU (f32, NHWC features), with the semantics of torchvision.ops.roi_align.
// There is one box per image: box n = (x1, y1, x2, y2) in input-image coordinates pools from
// image n of x into output n (out_h x out_w x C).
//
// The box is scaled by spatial_scale (and shifted by half a pixel when aligned, so that pixel
// centres sit at integer coordinates), then cut into out_h x out_w bins. Each bin averages a
// grid_h x grid_w grid of bilinear samples taken at the centres of a regular sub-grid of the bin,
// with grid = sampling_ratio, or ceil(roi size / out size) when sampling_ratio <= 0. A sample
// further than one pixel outside the map counts as 0; one inside that margin is clamped to it.
// The backward pass sends dy / count back to the same four pixels with the same weights.
// The definition, one output element at a time, is in reference_pooling.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"
#include "tensor/cpu/reference.h"

namespace remix {
namespace {

void check_f32(const Tensor& t, const char* what) {
  REMIX_CHECK(t.dtype() == DType::f32, "roi_align on the CPU computes in f32, but {} is {}", what,
              dtype_name(t.dtype()));
}

// Where the samples of one box fall, in feature-map coordinates (floats, as torchvision).
struct RoiGrid {
  float start_h = 0, start_w = 0;  // top-left corner of the box
  float bin_h = 0, bin_w = 0;      // bin size
  int64_t grid_h = 0, grid_w = 0;  // samples per bin side
  float count = 1;                 // samples per bin (the averaging divisor)
};

RoiGrid roi_grid(const float* box, const RoiAlignParams& p) {
  const float scale = static_cast<float>(p.spatial_scale);
  const float offset = p.aligned ? 0.5f : 0.0f;
  RoiGrid r;
  r.start_w = box[0] * scale - offset;
  r.start_h = box[1] * scale - offset;
  float roi_w = box[2] * scale - offset - r.start_w;
  float roi_h = box[3] * scale - offset - r.start_h;
  if (!p.aligned) {  // the legacy behaviour: boxes are at least one pixel
    roi_w = std::max(roi_w, 1.0f);
    roi_h = std::max(roi_h, 1.0f);
  }
  r.bin_h = roi_h / static_cast<float>(p.out_h);
  r.bin_w = roi_w / static_cast<float>(p.out_w);
  r.grid_h =
      p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(roi_h / p.out_h));
  r.grid_w =
      p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(roi_w / p.out_w));
  r.count = static_cast<float>(std::max<int64_t>(r.grid_h * r.grid_w, 1));
  return r;
}

// One bilinear sample: four pixel indices (h * W + w) and their weights.
struct Sample {
  int64_t index[4] = {0, 0, 0, 0};
  float weight[4] = {0, 0, 0, 0};
};

// torchvision's bilinear_interpolate: all weights 0 beyond one pixel outside the map;
// coordinates in [-1, 0) are clamped to 0, and from the last row (column) on, both neighbours
// are that row (column).
Sample bilinear_sample(float y, float x, int64_t H, int64_t W) {
  Sample s;
  if (y < -1.0f || y > static_cast<float>(H) || x < -1.0f || x > static_cast<float>(W)) return s;
  y = std::max(y, 0.0f);
  x = std::max(x, 0.0f);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x);
  int64_t y_high = y_low + 1, x_high = x_low + 1;
  if (y_low >= H - 1) y = static_cast<float>(y_high = y_low = H - 1);
  if (x_low >= W - 1) x = static_cast<float>(x_high = x_low = W - 1);
  const float ly = y - static_cast<float>(y_low), lx = x - static_cast<float>(x_low);
  const float hy = 1.0f - ly, hx = 1.0f - lx;
  s.index[0] = y_low * W + x_low, s.weight[0] = hy * hx;
  s.index[1] = y_low * W + x_high, s.weight[1] = hy * lx;
  s.index[2] = y_high * W + x_low, s.weight[2] = ly * hx;
  s.index[3] = y_high * W + x_high, s.weight[3] = ly * lx;
  return s;
}

// The samples of bin (ph, pw), weights already divided by the sample count.
void bin_samples(const RoiGrid& r, int64_t ph, int64_t pw, int64_t H, int64_t W,
                 std::vector<Sample>& out) {
  out.clear();
  for (int64_t iy = 0; iy < r.grid_h; ++iy) {
    const float y = r.start_h + static_cast<float>(ph) * r.bin_h +
                    (static_cast<float>(iy) + 0.5f) * r.bin_h / static_cast<float>(r.grid_h);
    for (int64_t ix = 0; ix < r.grid_w; ++ix) {
      const float x = r.start_w + static_cast<float>(pw) * r.bin_w +
                      (static_cast<float>(ix) + 0.5f) * r.bin_w / static_cast<float>(r.grid_w);
      Sample s = bilinear_sample(y, x, H, W);
      for (float& w : s.weight) w /= r.count;
      out.push_back(s);
    }
  }
}

}  // namespace

void CpuBackend::roi_align_forward(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p,
                                   Tensor& y) {
  check_f32(x, "x");
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const float* xp = x.data<float>();
  const float* bp = boxes.data<float>();
  float* yp = y.data<float>();
  if (cpu::reference_kernels_enabled())
    return cpu::reference::roi_align_forward(xp, bp, p, N, H, W, C, yp);
#pragma omp parallel if (x.numel() >= cpu::kParallelThreshold)
  {
    std::vector<Sample> samples;
#pragma omp for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t ph = 0; ph < p.out_h; ++ph) {
        const RoiGrid r = roi_grid(bp + n * 4, p);
        const float* image = xp + n * H * W * C;
        for (int64_t pw = 0; pw < p.out_w; ++pw) {
          float* out = yp + ((n * p.out_h + ph) * p.out_w + pw) * C;
          std::fill(out, out + C, 0.0f);
          bin_samples(r, ph, pw, H, W, samples);
          for (const Sample& s : samples)
            for (int k = 0; k < 4; ++k) {
              const float* in = image + s.index[k] * C;
              for (int64_t c = 0; c < C; ++c) out[c] += s.weight[k] * in[c];
            }
        }
      }
    }
  }
}

void CpuBackend::roi_align_backward(const Tensor& dy, const Tensor& boxes, const RoiAlignParams& p,
                                    Tensor& dx) {
  check_f32(dy, "dy");
  const int64_t N = dx.size(0), H = dx.size(1), W = dx.size(2), C = dx.size(3);
  const float* dyp = dy.data<float>();
  const float* bp = boxes.data<float>();
  float* dxp = dx.data<float>();
  if (cpu::reference_kernels_enabled())
    return cpu::reference::roi_align_backward(dyp, bp, p, N, H, W, C, dxp);
  // Box n only touches image n, so images are independent and go to different threads.
#pragma omp parallel if (dx.numel() >= cpu::kParallelThreshold)
  {
    std::vector<Sample> samples;
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      float* image = dxp + n * H * W * C;
      std::memset(image, 0, sizeof(float) * H * W * C);
      const RoiGrid r = roi_grid(bp + n * 4, p);
      for (int64_t ph = 0; ph < p.out_h; ++ph) {
        for (int64_t pw = 0; pw < p.out_w; ++pw) {
          const float* grad = dyp + ((n * p.out_h + ph) * p.out_w + pw) * C;
          bin_samples(r, ph, pw, H, W, samples);
          for (const Sample& s : samples)
            for (int k = 0; k < 4; ++k) {
              float* out = image + s.index[k] * C;
              for (int64_t c = 0; c < C; ++c) out[c] += s.weight[k] * grad[c];
            }
        }
      }
    }
  }
}

}  // namespace remix
