// Gradients of conv2d (input, weight and bias) with stride, padding and odd channel counts.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

struct ConvCase {
  Shape x, w;
  int64_t stride, padding;
  bool bias;
};

// On the fast kernels and on the reference loops of tensor/cpu/reference*.cpp.
class Conv2dGradient : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, Conv2dGradient, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);

TEST_P(Conv2dGradient, MatchesNumericalForInputWeightAndBias) {
  const std::vector<ConvCase> cases = {
      {{2, 5, 5, 3}, {5, 3, 3, 3}, 2, 1, true},   // stride 2, padding 1, odd channels
      {{1, 4, 5, 3}, {2, 3, 3, 3}, 1, 0, false},  // no padding, non-square input
      {{2, 4, 4, 5}, {3, 1, 1, 5}, 1, 0, true},   // 1x1 (a GEMM)
      {{1, 6, 6, 2}, {3, 3, 3, 2}, 2, 0, true},   // stride 2 leaving the last row unused
  };
  Generator gen(1);
  for (const ConvCase& c : cases) {
    std::vector<Tensor> inputs = {random_tensor(c.x, gen), random_tensor(c.w, gen)};
    if (c.bias) inputs.push_back(random_tensor({c.w[0]}, gen));
    const int64_t stride = c.stride, padding = c.padding;
    EXPECT_TRUE(gradient_matches(
        [stride, padding](const std::vector<Tensor>& in) {
          return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), stride, padding);
        },
        inputs))
        << "x " << to_string(c.x) << " w " << to_string(c.w) << " stride " << stride << " padding "
        << padding;
  }
}

TEST(Conv2d, AddsTheBiasToEveryOutputPosition) {
  Generator gen(2);
  const Tensor x = random_tensor({2, 4, 4, 3}, gen), w = random_tensor({5, 3, 3, 3}, gen);
  const Tensor bias = random_tensor({5}, gen);
  const Tensor without = conv2d(x, w, Tensor(), 1, 1);
  EXPECT_TRUE(all_close(conv2d(x, w, bias, 1, 1), add(without, bias)));
}

TEST(Conv2d, RejectsABiasOfTheWrongSize) {
  Generator gen(3);
  const Tensor x = random_tensor({1, 3, 3, 2}, gen), w = random_tensor({4, 1, 1, 2}, gen);
  EXPECT_THROW(conv2d(x, w, random_tensor({3}, gen)), Error);
}

}  // namespace
}  // namespace remix
