// RoiAlign layer against a naive torchvision-style ROI-Align (aligned, adaptive sampling).
#include "nn/roi_align.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

// torchvision's bilinear_interpolate: zero outside [-1, size], clamped at the border.
double bilinear(const std::vector<float>& f, int64_t H, int64_t W, int64_t C, int64_t n, int64_t c,
                double y, double x) {
  if (y < -1.0 || y > H || x < -1.0 || x > W) return 0.0;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1 = y0 + 1, x1 = x0 + 1;
  if (y0 >= H - 1) {
    y0 = y1 = H - 1;
    y = static_cast<double>(y0);
  }
  if (x0 >= W - 1) {
    x0 = x1 = W - 1;
    x = static_cast<double>(x0);
  }
  const double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  auto at = [&](int64_t h, int64_t w) { return f[((n * H + h) * W + w) * C + c]; };
  return hy * hx * at(y0, x0) + hy * lx * at(y0, x1) + ly * hx * at(y1, x0) + ly * lx * at(y1, x1);
}

Tensor naive_roi_align(const Tensor& x, const Tensor& boxes, int64_t out, double scale) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const auto f = x.to_vector<float>(), b = boxes.to_vector<float>();
  std::vector<float> y(N * out * out * C);
  for (int64_t n = 0; n < N; ++n) {
    const double x1 = b[n * 4] * scale - 0.5, y1 = b[n * 4 + 1] * scale - 0.5;
    const double bin_w = (b[n * 4 + 2] * scale - 0.5 - x1) / out;
    const double bin_h = (b[n * 4 + 3] * scale - 0.5 - y1) / out;
    const auto grid_h = static_cast<int64_t>(std::ceil(bin_h)),
               grid_w = static_cast<int64_t>(std::ceil(bin_w));
    const double count = std::max<double>(grid_h * grid_w, 1);
    for (int64_t p = 0; p < out; ++p)
      for (int64_t q = 0; q < out; ++q)
        for (int64_t c = 0; c < C; ++c) {
          double acc = 0;
          for (int64_t iy = 0; iy < grid_h; ++iy)
            for (int64_t ix = 0; ix < grid_w; ++ix)
              acc += bilinear(f, H, W, C, n, c, y1 + p * bin_h + (iy + 0.5) * bin_h / grid_h,
                              x1 + q * bin_w + (ix + 0.5) * bin_w / grid_w);
          y[((n * out + p) * out + q) * C + c] = static_cast<float>(acc / count);
        }
  }
  return Tensor::from_vector(y, {N, out, out, C});
}

TEST(RoiAlign, MatchesANaiveAlignedRoiAlignWithAdaptiveSampling) {
  Generator gen(1);
  RoiAlign roi({2, 2, 0.25, -1, true});
  const Tensor x = testing::random_tensor({2, 4, 4, 3}, gen);
  const Tensor boxes = Tensor::from_vector<float>({0, 0, 16, 16, 3, 5, 14, 12}, {2, 4});
  EXPECT_TRUE(
      testing::all_close(roi.forward(x, boxes), naive_roi_align(x, boxes, 2, 0.25), 1e-5, 1e-4));
}

TEST(RoiAlign, AveragesAConstantMapToThatConstant) {
  RoiAlign roi({1, 1, 0.125, -1, true});
  const Tensor x = Tensor::full({1, 4, 4, 2}, 3.0);
  const Tensor boxes = Tensor::from_vector<float>({4, 8, 20, 28}, {1, 4});
  EXPECT_TRUE(
      testing::all_close(roi.forward(x, boxes), Tensor::full({1, 1, 1, 2}, 3.0), 1e-6, 1e-6));
}

TEST(RoiAlign, PassesGradientsToTheFeatures) {
  Generator gen(2);
  RoiAlign roi({1, 1, 0.5, -1, true});
  const Tensor boxes = Tensor::from_vector<float>({1, 2, 7, 6, 0, 0, 8, 8}, {2, 4});
  EXPECT_TRUE(testing::gradient_matches(
      [&](const std::vector<Tensor>& in) { return roi.forward(in[0], boxes); },
      {testing::random_tensor({2, 4, 4, 2}, gen)}));
}

TEST(RoiAlign, RejectsOneBoxPerImageMismatches) {
  RoiAlign roi(RoiAlignOptions{});
  EXPECT_THROW(roi.forward(Tensor::zeros({2, 4, 4, 1}), Tensor::zeros({1, 4})), Error);
}

}  // namespace
}  // namespace remix::nn
