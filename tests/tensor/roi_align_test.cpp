// The CPU ROI-Align primitives against their definition (tensor/cpu/reference_pooling.cpp, in
// double; its backward pass is checked as the adjoint of its forward one in reference_test.cpp)
// and against a case worked out by hand.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "tensor/cpu/reference.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::random_tensor;

// The definition's output and input gradient (tensor/cpu/reference_pooling.cpp).
struct Expected {
  Tensor y, dx;
};

Expected reference_roi_align(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p,
                             const Tensor& dy) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  Expected out{Tensor({N, p.out_h, p.out_w, C}), Tensor(x.shape())};
  cpu::reference::roi_align_forward(x.data<float>(), boxes.data<float>(), p, N, H, W, C,
                                    out.y.data<float>());
  cpu::reference::roi_align_backward(dy.data<float>(), boxes.data<float>(), p, N, H, W, C,
                                     out.dx.data<float>());
  return out;
}

// The hand-worked cases run on the fast kernel and on the definition; the comparison of the two
// on random data forces the fast kernel, whatever REMIX_CPU_REFERENCE says.
class RoiAlign : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, RoiAlign, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);
class RoiAlignFast : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(Fast, RoiAlignFast, testing::kFastKernels, testing::cpu_kernel_name);

// Features 7 x 6 for a 14 x 12 image (spatial_scale 0.5), one box per image: inside the map,
// hanging off the top-left, hanging off the bottom-right, and smaller than a feature pixel.
TEST_P(RoiAlignFast, MatchesTheReferenceLoops) {
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
          const Expected ref = reference_roi_align(x, boxes, p, dy);
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
