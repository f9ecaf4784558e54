// Gradients of max and average pooling (padding, stride, ceil_mode) and global average pooling.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

// Distinct values 0.05 apart in random order: no ties, and a perturbation of 1e-2 never changes
// which element is a window's maximum.
Tensor without_ties(const Shape& shape, Generator& gen) {
  const std::vector<int64_t> order = gen.permutation(numel(shape));
  std::vector<float> v(order.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.05f * static_cast<float>(order[i]) - 2.0f;
  return Tensor::from_vector(v, shape);
}

struct PoolCase {
  Shape x;
  int64_t kernel, stride, padding;
  bool ceil_mode;
};

const std::vector<PoolCase> kPoolCases = {
    {{2, 4, 4, 3}, 2, 2, 0, false},  // the usual 2x2
    {{1, 5, 5, 2}, 3, 2, 1, false},  // ResNet's stem pooling: padding 1
    {{1, 5, 5, 3}, 2, 2, 0, true},   // ceil_mode: a last, partial window
    {{2, 6, 5, 1}, 3, 2, 1, true},   // ceil_mode with padding, non-square
};

// On the fast kernels and on the reference loops of tensor/cpu/reference*.cpp.
class MaxPool2dGradient : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, MaxPool2dGradient, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);

TEST_P(MaxPool2dGradient, MatchesNumericalOnInputsWithoutTies) {
  Generator gen(1);
  for (const PoolCase& c : kPoolCases) {
    EXPECT_TRUE(gradient_matches(
        [c](const std::vector<Tensor>& in) {
          return max_pool2d(in[0], c.kernel, c.stride, c.padding, c.ceil_mode);
        },
        {without_ties(c.x, gen)}, {.max_elements = 150}))
        << to_string(c.x) << " kernel " << c.kernel << " ceil " << c.ceil_mode;
  }
}

class AvgPool2dGradient : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, AvgPool2dGradient, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);

TEST_P(AvgPool2dGradient, MatchesNumericalIncludingCeilMode) {
  Generator gen(2);
  for (const PoolCase& c : kPoolCases) {
    EXPECT_TRUE(gradient_matches(
        [c](const std::vector<Tensor>& in) {
          return avg_pool2d(in[0], c.kernel, c.stride, c.padding, c.ceil_mode);
        },
        {random_tensor(c.x, gen)}, {.max_elements = 150}))
        << to_string(c.x) << " kernel " << c.kernel << " ceil " << c.ceil_mode;
  }
}

TEST(GlobalAvgPool, IsTheMeanOverHeightAndWidth) {
  // x[n, h, w, c] = n * 100 + c * 10 + (h * 2 + w): the mean over h, w adds 1.5.
  std::vector<float> v;
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 2; ++w)
        for (int c = 0; c < 3; ++c) v.push_back(n * 100.f + c * 10.f + h * 2 + w);
  const Tensor y = global_avg_pool(Tensor::from_vector(v, {2, 2, 2, 3}));
  EXPECT_TRUE(
      all_close(y, Tensor::from_vector<float>({1.5, 11.5, 21.5, 101.5, 111.5, 121.5}, {2, 3})));
}

TEST(GlobalAvgPoolGradient, MatchesNumerical) {
  Generator gen(3);
  EXPECT_TRUE(gradient_matches([](const std::vector<Tensor>& in) { return global_avg_pool(in[0]); },
                               {random_tensor({2, 3, 3, 4}, gen)}));
}

}  // namespace
}  // namespace remix
