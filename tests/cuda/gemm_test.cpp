// cuBLAS GEMM (cuda/gemm.cpp) against the CPU: c = alpha * op(a) @ op(b) + beta * c for every
// combination of transposes, odd sizes, and f32 (no TF32), f16 and bf16.
#include <cmath>
#include <limits>

#include "tensor/primitives.h"
#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::Operand;

struct GemmSize {
  int64_t m, n, k;
};
constexpr GemmSize kSizes[] = {{5, 3, 7}, {37, 23, 19}, {1, 1, 1}, {1, 64, 130}, {70, 2, 33}};

// The stored shape of a matrix whose op() is rows x cols.
Shape stored(bool transposed, int64_t rows, int64_t cols) {
  return transposed ? Shape{cols, rows} : Shape{rows, cols};
}

void expect_gemm_matches_cpu(DType dtype, double tolerance) {
  Generator gen(11);
  for (const GemmSize& s : kSizes) {
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "m " << s.m << " n " << s.n << " k " << s.k
                                          << (ta ? " a^T" : "") << (tb ? " b^T" : ""));
        const Operand a = testing::upload(testing::random_tensor(stored(ta, s.m, s.k), gen), dtype);
        const Operand b = testing::upload(testing::random_tensor(stored(tb, s.k, s.n), gen), dtype);
        Operand c = testing::upload(testing::random_tensor({s.m, s.n}, gen), dtype);
        Tensor expected = c.reference.clone();
        prim::gemm(ta, tb, 0.5, a.reference, b.reference, 2.0, expected);
        prim::gemm(ta, tb, 0.5, a.device, b.device, 2.0, c.device);
        EXPECT_TRUE(testing::matches_cpu_at_scale(c.device, expected, tolerance));
      }
    }
  }
}

TEST(CudaGemm, MatchesTheCpuInFullF32) {
  REMIX_SKIP_WITHOUT_GPU();
  // Tight enough to fail if TF32 tensor cores (about 1e-3 of the scale) were used.
  expect_gemm_matches_cpu(DType::f32, 2e-5);
}

TEST(CudaGemm, MatchesTheCpuInF16) {
  REMIX_SKIP_WITHOUT_GPU();
  expect_gemm_matches_cpu(DType::f16, testing::kF16Tolerance);
}

TEST(CudaGemm, MatchesTheCpuInBf16) {
  REMIX_SKIP_WITHOUT_GPU();
  expect_gemm_matches_cpu(DType::bf16, testing::kBf16Tolerance);
}

TEST(CudaGemm, DoesNotReadCWhenBetaIsZero) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(12);
  const Tensor a = testing::random_tensor({4, 6}, gen), b = testing::random_tensor({6, 3}, gen);
  const std::vector<float> nans(12, std::numeric_limits<float>::quiet_NaN());
  Tensor c = Tensor::from_vector(nans, {4, 3}, Device::cuda(0));
  prim::gemm(false, false, 1.0, a.to(Device::cuda(0)), b.to(Device::cuda(0)), 0.0, c);
  EXPECT_TRUE(testing::matches_cpu_at_scale(c, prim::matmul(a, b), 2e-5));
}

}  // namespace
}  // namespace remix
