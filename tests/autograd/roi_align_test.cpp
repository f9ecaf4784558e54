// Gradients of ROI-Align with respect to the features: aligned and not, adaptive and fixed
// sampling, a box partly outside the image. The boxes receive no gradient.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::gradient_matches;
using testing::random_tensor;

struct RoiCase {
  const char* name;
  std::vector<float> boxes;  // one (x1, y1, x2, y2) per image, in image coordinates
  RoiAlignParams params;
};

// On the fast kernels and on the reference loops of tensor/cpu/reference*.cpp.
class RoiAlignGradient : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, RoiAlignGradient, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);

TEST_P(RoiAlignGradient, MatchesNumericalForTheFeatures) {
  const std::vector<RoiCase> cases = {
      {"aligned, adaptive sampling", {2, 2, 14, 10, 0, 4, 16, 16}, {2, 2, 0.5, -1, true}},
      {"aligned, 2 samples per bin", {2, 2, 14, 10, 0, 4, 16, 16}, {3, 2, 0.5, 2, true}},
      {"not aligned, 1 sample per bin", {1, 3, 9, 15, 5, 5, 11, 9}, {2, 3, 0.5, 1, false}},
      {"box partly outside", {-6, -4, 8, 10, 8, 6, 20, 22}, {2, 2, 0.5, -1, true}},
  };
  Generator gen(1);
  for (const RoiCase& c : cases) {
    const Tensor x = random_tensor({2, 6, 6, 3}, gen);
    const Tensor boxes = Tensor::from_vector(c.boxes, {2, 4});
    const RoiAlignParams p = c.params;
    EXPECT_TRUE(
        gradient_matches([p](const std::vector<Tensor>& in) { return roi_align(in[0], in[1], p); },
                         {x, boxes}, {.max_elements = 216, .check_input = {true, false}}))
        << c.name;
  }
}

TEST_P(RoiAlignGradient, LeavesTheBoxesWithoutAGradient) {
  Generator gen(2);
  Tensor x = random_tensor({1, 4, 4, 2}, gen);
  Tensor boxes = Tensor::from_vector<float>({0, 0, 3, 3}, {1, 4});
  set_requires_grad(x);
  set_requires_grad(boxes);
  backward(sum(roi_align(x, boxes, {2, 2, 1.0, -1, true})));
  EXPECT_TRUE(grad(x).defined());
  EXPECT_FALSE(grad(boxes).defined());
}

}  // namespace
}  // namespace remix
