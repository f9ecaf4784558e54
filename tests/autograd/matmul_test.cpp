// Gradients of the matrix product with every combination of transposed operands.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

// On the fast kernels and on the reference loop of tensor/cpu/reference.cpp.
class MatmulGradient : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, MatmulGradient, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);

TEST_P(MatmulGradient, MatchesNumericalForEveryTransposeCombination) {
  const int64_t m = 3, k = 4, n = 5;
  Generator gen(1);
  for (bool transpose_a : {false, true}) {
    for (bool transpose_b : {false, true}) {
      const Tensor a = random_tensor(transpose_a ? Shape{k, m} : Shape{m, k}, gen);
      const Tensor b = random_tensor(transpose_b ? Shape{n, k} : Shape{k, n}, gen);
      EXPECT_TRUE(gradient_matches(
          [=](const std::vector<Tensor>& in) {
            return matmul(in[0], in[1], transpose_a, transpose_b);
          },
          {a, b}))
          << "transpose_a " << transpose_a << ", transpose_b " << transpose_b;
    }
  }
}

TEST_P(MatmulGradient, IsDyTimesTheOtherOperandTransposed) {
  // c = a @ b with a 1 x 2, b 2 x 1: da = dc b^T, db = a^T dc.
  Tensor a = Tensor::from_vector<float>({1, 2}, {1, 2});
  Tensor b = Tensor::from_vector<float>({3, 4}, {2, 1});
  set_requires_grad(a);
  set_requires_grad(b);
  backward(matmul(a, b), Tensor::from_vector<float>({2}, {1, 1}));
  EXPECT_TRUE(all_close(grad(a), Tensor::from_vector<float>({6, 8}, {1, 2})));
  EXPECT_TRUE(all_close(grad(b), Tensor::from_vector<float>({2, 4}, {2, 1})));
}

}  // namespace
}  // namespace remix
