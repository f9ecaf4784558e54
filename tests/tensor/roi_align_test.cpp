// The CPU ROI-Align primitives against an independent reference in the channel-planar (NCHW)
// loop order of torchvision's definition, computed in double, and against a case worked out by
// hand. The backward reference is built from the forward one alone: ROI-Align is linear in the
// features, so the gradient at pixel (h, w) is the forward response to a one-hot map at (h, w),
// weighted by dy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::random_tensor;

// Bilinear value of an H x W plane at (y, x), as torchvision: 0 more than a pixel outside,
// clamped to the border inside that margin.
double bilinear(const std::vector<double>& plane, int64_t H, int64_t W, double y, double x) {
  if (y < -1.0 || y > double(H) || x < -1.0 || x > double(W)) return 0.0;
  y = std::clamp(y, 0.0, double(H - 1));
  x = std::clamp(x, 0.0, double(W - 1));
  const int64_t y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
  const int64_t y1 = std::min(y0 + 1, H - 1), x1 = std::min(x0 + 1, W - 1);
  const double fy = y - double(y0), fx = x - double(x0);
  auto at = [&](int64_t h, int64_t w) { return plane[h * W + w]; };
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
         fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
}

// One channel plane pooled into out_h x out_w bins by one box (x1, y1, x2, y2).
std::vector<double> pool_plane(const std::vector<double>& plane, int64_t H, int64_t W,
                               const float* box, const RoiAlignParams& p) {
  const double offset = p.aligned ? 0.5 : 0.0;
  const double left = box[0] * p.spatial_scale - offset, top = box[1] * p.spatial_scale - offset;
  double width = box[2] * p.spatial_scale - offset - left;
  double height = box[3] * p.spatial_scale - offset - top;
  if (!p.aligned) width = std::max(width, 1.0), height = std::max(height, 1.0);
  const double bin_h = height / double(p.out_h), bin_w = width / double(p.out_w);
  const int64_t grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : int64_t(std::ceil(bin_h));
  const int64_t grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : int64_t(std::ceil(bin_w));
  const double count = double(std::max<int64_t>(grid_h * grid_w, 1));
  std::vector<double> out(p.out_h * p.out_w, 0.0);
  for (int64_t ph = 0; ph < p.out_h; ++ph)
    for (int64_t pw = 0; pw < p.out_w; ++pw) {
      double sum = 0.0;
      for (int64_t iy = 0; iy < grid_h; ++iy)
        for (int64_t ix = 0; ix < grid_w; ++ix)
          sum += bilinear(plane, H, W, top + bin_h * (ph + (iy + 0.5) / grid_h),
                          left + bin_w * (pw + (ix + 0.5) / grid_w));
      out[ph * p.out_w + pw] = sum / count;
    }
  return out;
}

struct Reference {
  Tensor y, dx;
};

Reference naive_roi_align(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p,
                          const Tensor& dy) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const std::vector<float> xv = x.to_vector<float>(), bv = boxes.to_vector<float>();
  const std::vector<float> dyv = dy.to_vector<float>();
  const int64_t bins = p.out_h * p.out_w;
  std::vector<float> y(N * bins * C), dx(N * H * W * C);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {  // forward, one NCHW plane at a time
      std::vector<double> plane(H * W);
      for (int64_t i = 0; i < H * W; ++i) plane[i] = xv[(n * H * W + i) * C + c];
      const std::vector<double> pooled = pool_plane(plane, H, W, &bv[n * 4], p);
      for (int64_t b = 0; b < bins; ++b) y[(n * bins + b) * C + c] = float(pooled[b]);
    }
    for (int64_t i = 0; i < H * W; ++i) {  // backward, from the response to a one-hot plane
      std::vector<double> one_hot(H * W, 0.0);
      one_hot[i] = 1.0;
      const std::vector<double> response = pool_plane(one_hot, H, W, &bv[n * 4], p);
      for (int64_t c = 0; c < C; ++c) {
        double sum = 0.0;
        for (int64_t b = 0; b < bins; ++b) sum += response[b] * dyv[(n * bins + b) * C + c];
        dx[(n * H * W + i) * C + c] = float(sum);
      }
    }
  }
  return {Tensor::from_vector(y, {N, p.out_h, p.out_w, C}), Tensor::from_vector(dx, x.shape())};
}

// Every test runs on the fast kernel and on the definition in tensor/cpu/reference_pooling.cpp.
class RoiAlign : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, RoiAlign, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);

// Features 7 x 6 for a 14 x 12 image (spatial_scale 0.5), one box per image: inside the map,
// hanging off the top-left, hanging off the bottom-right, and smaller than a feature pixel.
TEST_P(RoiAlign, MatchesAnIndependentReference) {
  Generator gen(3);
  const Tensor boxes = Tensor::from_vector<float>({2.0f, 3.0f, 9.0f, 11.0f,   //
                                                   -4.0f, -2.5f, 6.0f, 5.0f,  //
                                                   5.0f, 6.5f, 15.5f, 17.0f,  //
                                                   4.2f, 4.4f, 4.6f, 5.0f},
                                                  {4, 4});
  const std::vector<std::pair<int64_t, int64_t>> output_sizes = {{2, 3}, {1, 1}};
  for (int64_t C : {5, 13}) {
    const Tensor x = random_tensor({4, 7, 6, C}, gen);
    for (bool aligned : {true, false}) {
      for (int64_t sampling_ratio : {2, 0}) {
        for (const auto& [out_h, out_w] : output_sizes) {
          SCOPED_TRACE(::testing::Message() << "C " << C << " aligned " << aligned << " ratio "
                                            << sampling_ratio << " out " << out_h << "x" << out_w);
          RoiAlignParams p;
          p.out_h = out_h, p.out_w = out_w, p.spatial_scale = 0.5;
          p.sampling_ratio = sampling_ratio, p.aligned = aligned;
          const Tensor dy = random_tensor({4, out_h, out_w, C}, gen);
          const Reference ref = naive_roi_align(x, boxes, p, dy);
          EXPECT_TRUE(all_close(prim::roi_align_forward(x, boxes, p), ref.y));
          EXPECT_TRUE(all_close(prim::roi_align_backward(dy, boxes, p, x.shape()), ref.dx));
        }
      }
    }
  }
}

// A 4x4 map v(h, w) = h^2 + w^2, box (2.5, 2.0, 4.5, 5.0), aligned, scale 1, one 1x1 bin of
// 2x2 samples. The box becomes [2.0, 4.0] x [1.5, 4.5] (x by y) after the half-pixel shift, so
// the bin is 2 wide and 3 tall and the samples sit at y in {2.25, 3.75}, x in {2.5, 3.5}.
// Beyond the last row/column (index 3) a sample is clamped to it; inside, bilinear weights:
//   (2.25, 2.5): rows 2,3 with .75/.25, cols 2,3 with .5/.5 -> (2,2) .375 (2,3) .375 (3,2) .125
//                (3,3) .125; value .75*4 + .25*9 + 6.5 = 11.75 (v is separable: h^2 part
//                interpolates to 5.25, w^2 part to 6.5)
//   (2.25, 3.5 -> 3): (2,3) .75, (3,3) .25; value 5.25 + 9 = 14.25
//   (3.75 -> 3, 2.5): (3,2) .5, (3,3) .5; value 9 + 6.5 = 15.5
//   (3.75 -> 3, 3.5 -> 3): (3,3) 1; value 18
// The output is the mean, 59.5 / 4 = 14.875, and a unit dy spreads the summed weights / 4:
// (2,2) .09375, (2,3) .28125, (3,2) .15625, (3,3) .46875.
TEST_P(RoiAlign, MatchesAHandComputedCaseWithClampedSamples) {
  std::vector<float> map(16);
  for (int h = 0; h < 4; ++h)
    for (int w = 0; w < 4; ++w) map[h * 4 + w] = float(h * h + w * w);
  const Tensor x = Tensor::from_vector(map, {1, 4, 4, 1});
  const Tensor boxes = Tensor::from_vector<float>({2.5f, 2.0f, 4.5f, 5.0f}, {1, 4});
  RoiAlignParams p;
  p.sampling_ratio = 2, p.aligned = true;
  EXPECT_TRUE(all_close(prim::roi_align_forward(x, boxes, p),
                        Tensor::from_vector<float>({14.875f}, {1, 1, 1, 1})));
  std::vector<float> dx(16, 0.0f);
  dx[2 * 4 + 2] = 0.09375f, dx[2 * 4 + 3] = 0.28125f, dx[3 * 4 + 2] = 0.15625f;
  dx[3 * 4 + 3] = 0.46875f;
  const Tensor dy = Tensor::from_vector<float>({1.0f}, {1, 1, 1, 1});
  EXPECT_TRUE(all_close(prim::roi_align_backward(dy, boxes, p, x.shape()),
                        Tensor::from_vector(dx, {1, 4, 4, 1})));
}

// Samples more than one pixel outside the map contribute zero, in both directions.
TEST_P(RoiAlign, BoxesOutsideTheMapGiveZero) {
  Generator gen(5);
  const Tensor x = random_tensor({2, 4, 4, 3}, gen);
  const Tensor boxes = Tensor::from_vector<float>({6, 6, 9, 9, -9, -8, -6, -5.5f}, {2, 4});
  RoiAlignParams p;
  p.out_h = 2, p.out_w = 2;
  const Tensor zeros_y = Tensor::from_vector(std::vector<float>(2 * 2 * 2 * 3, 0.0f), {2, 2, 2, 3});
  EXPECT_TRUE(all_close(prim::roi_align_forward(x, boxes, p), zeros_y, 0, 0));
  const Tensor dx = prim::roi_align_backward(random_tensor({2, 2, 2, 3}, gen), boxes, p, x.shape());
  EXPECT_TRUE(
      all_close(dx, Tensor::from_vector(std::vector<float>(2 * 4 * 4 * 3, 0.0f), x.shape()), 0, 0));
}

}  // namespace
}  // namespace remix
