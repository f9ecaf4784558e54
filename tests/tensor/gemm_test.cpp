// The CPU matrix product: remix::cpu::sgemm with every micro-kernel this CPU can run, against the
// triple loop that defines it (cpu::reference::sgemm, sums in double), and CpuBackend::gemm
// through remix::prim.
// Shapes are odd on purpose, so that every edge of the MR x NR tiles and of the cache blocks is
// crossed; a kernel the CPU cannot run (AVX-512 on many machines) is skipped, not failed.
#include "tensor/cpu/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tensor/cpu/gemm_kernel.h"
#include "tensor/cpu/gemm_simd_tile.h"
#include "tensor/cpu/reference.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

// One product to check. Leading dimensions are the widths as stored plus the given padding.
struct Case {
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  int64_t pad = 0;
};

std::string describe(const Case& t) {
  return fmt::format("op(A) {}x{}{}, op(B) {}x{}{}, alpha {}, beta {}, padding {}", t.m, t.k,
                     t.ta ? " (A^T)" : "", t.k, t.n, t.tb ? " (B^T)" : "", t.alpha, t.beta, t.pad);
}

// Runs sgemm (with the given kernel, or the active one) on random data and compares every element
// of C, padding included, with the reference loop (tensor/cpu/reference.cpp, sums in double).
// A float sum of k products is off by at most about k * 2^-24 times the sum of the magnitudes of
// its terms (the reference loop on |A| and |B|); the tolerance allows that plus rounding of the
// final scaling.
::testing::AssertionResult matches_reference_loop(
    const Case& t, const cpu::detail::SgemmKernel* kernel = nullptr) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const int64_t a_rows = t.ta ? t.k : t.m, a_cols = t.ta ? t.m : t.k;
  const int64_t b_rows = t.tb ? t.n : t.k, b_cols = t.tb ? t.k : t.n;
  const int64_t lda = a_cols + t.pad, ldb = b_cols + t.pad, ldc = t.n + t.pad;
  std::vector<float> a(a_rows * lda), b(b_rows * ldb), c(t.m * ldc);
  for (float& v : a) v = uniform(rng);
  for (float& v : b) v = uniform(rng);
  // beta == 0 must not read C: NaNs there would poison the result if it did.
  for (float& v : c) v = t.beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : uniform(rng);
  const std::vector<float> c0 = c;

  if (kernel == nullptr) {
    cpu::sgemm(t.ta, t.tb, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta, c.data(),
               ldc);
  } else {
    cpu::detail::sgemm_with_kernel(*kernel, t.ta, t.tb, t.m, t.n, t.k, t.alpha, a.data(), lda,
                                   b.data(), ldb, t.beta, c.data(), ldc);
  }
  std::vector<float> want = c0, magnitude(c.size()), abs_a(a.size()), abs_b(b.size());
  cpu::reference::sgemm(t.ta, t.tb, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta,
                        want.data(), ldc);
  for (size_t i = 0; i < a.size(); ++i) abs_a[i] = std::abs(a[i]);
  for (size_t i = 0; i < b.size(); ++i) abs_b[i] = std::abs(b[i]);
  cpu::reference::sgemm(t.ta, t.tb, t.m, t.n, t.k, 1.0f, abs_a.data(), lda, abs_b.data(), ldb, 0.0f,
                        magnitude.data(), ldc);

  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = c[i * ldc + j];
      if (j >= t.n) {  // the padding of C is never written
        if (!(std::isnan(got) && std::isnan(c0[i * ldc + j])) && got != c0[i * ldc + j])
          return ::testing::AssertionFailure() << "padding of C changed at " << i << ", " << j;
        continue;
      }
      const double old = t.beta == 0.0f ? 0.0 : t.beta * double(c0[i * ldc + j]);
      const double tolerance =
          1e-6 + 2e-7 * (t.k + 4) * (std::abs(t.alpha) * magnitude[i * ldc + j] + std::abs(old));
      if (!(std::abs(got - want[i * ldc + j]) <= tolerance)) {
        return ::testing::AssertionFailure()
               << describe(t) << ": C[" << i << "][" << j << "] = " << got << ", expected "
               << want[i * ldc + j] << " (kernel "
               << (kernel ? kernel->name : cpu::sgemm_kernel_name()) << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Each test runs with one instruction set's kernel forced, and puts the automatic choice back
// afterwards.
class SgemmKernel : public testing::CpuKernelTest {};

const bool kTransposes[][2] = {{false, false}, {false, true}, {true, false}, {true, true}};

TEST_P(SgemmKernel, ReportsItsName) {
  EXPECT_EQ(cpu::sgemm_kernel_name(), GetParam());
}

TEST_P(SgemmKernel, MatchesTheReferenceLoopOnOddCubesForEveryTranspose) {
  for (int64_t size : {0, 1, 7, 17, 33, 65, 129, 257}) {
    for (const auto& [ta, tb] : kTransposes) {
      EXPECT_TRUE(matches_reference_loop({.ta = ta, .tb = tb, .m = size, .n = size, .k = size}));
    }
  }
}

TEST_P(SgemmKernel, MatchesTheReferenceLoopOnNonSquareShapes) {
  const std::tuple<int64_t, int64_t, int64_t> shapes[] = {
      {1, 257, 7}, {257, 1, 33}, {65, 17, 129}, {7, 129, 1},  {33, 65, 17},
      {1, 1, 257}, {129, 7, 65}, {17, 33, 2},   {6, 16, 300}, {13, 31, 5}};
  for (const auto& [m, n, k] : shapes) {
    for (const auto& [ta, tb] : kTransposes) {
      EXPECT_TRUE(matches_reference_loop({.ta = ta, .tb = tb, .m = m, .n = n, .k = k}));
    }
  }
}

TEST_P(SgemmKernel, CrossesEveryCacheBlockBoundary) {
  // More rows than one MC block, more depth than one KC panel, more columns than one NC panel,
  // and few rows with many columns (threads then share out the columns).
  EXPECT_TRUE(matches_reference_loop({.m = 301, .n = 40, .k = 530, .beta = 0.5f}));
  EXPECT_TRUE(matches_reference_loop({.ta = true, .m = 7, .n = 4200, .k = 300, .beta = 1.0f}));
  EXPECT_TRUE(matches_reference_loop({.tb = true, .m = 5, .n = 2000, .k = 70}));
}

TEST_P(SgemmKernel, AppliesAlphaAndBeta) {
  for (float alpha : {1.0f, -0.5f, 2.0f}) {
    for (float beta : {0.0f, 1.0f, 0.25f, -1.0f}) {
      EXPECT_TRUE(matches_reference_loop(
          {.tb = true, .m = 19, .n = 35, .k = 23, .alpha = alpha, .beta = beta}));
    }
  }
}

TEST_P(SgemmKernel, RespectsLeadingDimensionsWiderThanTheMatrices) {
  for (const auto& [ta, tb] : kTransposes) {
    EXPECT_TRUE(matches_reference_loop(
        {.ta = ta, .tb = tb, .m = 29, .n = 37, .k = 41, .beta = 0.5f, .pad = 3}));
    EXPECT_TRUE(matches_reference_loop({.ta = ta, .tb = tb, .m = 7, .n = 17, .k = 1, .pad = 16}));
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, SgemmKernel, testing::kEveryInstructionSet,
                         testing::cpu_kernel_name);

// 16 floats in plain C++, standing in for an AVX-512 register.
struct Emulated512 {
  struct Vec {
    float lane[16];
  };
  static constexpr int width = 16;
  static Vec zero() { return Vec{}; }
  static Vec load(const float* p) {
    Vec v;
    for (int l = 0; l < width; ++l) v.lane[l] = p[l];
    return v;
  }
  static void store(float* p, Vec v) {
    for (int l = 0; l < width; ++l) p[l] = v.lane[l];
  }
  static Vec broadcast(float x) {
    Vec v;
    for (float& e : v.lane) e = x;
    return v;
  }
  static Vec mul(Vec a, Vec b) {
    for (int l = 0; l < width; ++l) a.lane[l] *= b.lane[l];
    return a;
  }
  static Vec fma(Vec a, Vec b, Vec c) {
    for (int l = 0; l < width; ++l) c.lane[l] += a.lane[l] * b.lane[l];
    return c;
  }
};

// The AVX-512 kernel's tile shape and cache blocking, with its registers emulated, so that all
// but its instructions run on any CPU.
TEST(Sgemm, Avx512TileShapeAndBlockingMatchTheReferenceLoopWithEmulatedRegisters) {
  cpu::detail::SgemmKernel emulated = cpu::detail::avx512_sgemm_kernel();
  ASSERT_EQ(emulated.mr, 14);
  ASSERT_EQ(emulated.nr, 2 * Emulated512::width);
  emulated.tile = cpu::detail::simd_tile<Emulated512, 14, 2>;
  for (int64_t size : {1, 17, 33, 129}) {
    for (const auto& [ta, tb] : kTransposes) {
      EXPECT_TRUE(matches_reference_loop(
          {.ta = ta, .tb = tb, .m = size, .n = size + 2, .k = size, .beta = 0.5f}, &emulated));
    }
  }
  EXPECT_TRUE(matches_reference_loop({.m = 350, .n = 40, .k = 400, .pad = 3}, &emulated));
  EXPECT_TRUE(matches_reference_loop({.tb = true, .m = 3, .n = 4100, .k = 20}, &emulated));
}

TEST(Sgemm, WithNoDepthScalesCByBeta) {
  std::vector<float> c{1, 2, 3, 4, 5, 6};
  cpu::sgemm(false, false, 2, 3, 0, 1.0f, nullptr, 0, nullptr, 3, 0.5f, c.data(), 3);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3}));
  c.assign(6, std::numeric_limits<float>::quiet_NaN());
  cpu::sgemm(false, false, 2, 3, 0, 1.0f, nullptr, 0, nullptr, 3, 0.0f, c.data(), 3);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

TEST(Sgemm, WithAlphaZeroDoesNotReadAOrB) {
  const std::vector<float> nan(4, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> c{1, 2, 3, 4};
  cpu::sgemm(false, false, 2, 2, 2, 0.0f, nan.data(), 2, nan.data(), 2, 2.0f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{2, 4, 6, 8}));
}

TEST(Sgemm, RejectsNegativeSizesAndNarrowLeadingDimensions) {
  std::vector<float> x(64, 1.0f);
  EXPECT_THROW(cpu::sgemm(false, false, -1, 2, 2, 1, x.data(), 2, x.data(), 2, 0, x.data(), 2),
               Error);
  EXPECT_THROW(cpu::sgemm(false, false, 2, 3, 4, 1, x.data(), 3, x.data(), 3, 0, x.data(), 3),
               Error);  // A is 2 x 4: lda must be at least 4
  EXPECT_THROW(cpu::sgemm(false, true, 2, 3, 4, 1, x.data(), 4, x.data(), 3, 0, x.data(), 3),
               Error);  // B^T is stored 3 x 4: ldb must be at least 4
  EXPECT_THROW(cpu::sgemm(true, false, 2, 3, 4, 1, x.data(), 2, x.data(), 3, 0, x.data(), 2),
               Error);  // C is 2 x 3: ldc must be at least 3
}

TEST(Sgemm, SetKernelRejectsUnknownOrUnsupportedKernels) {
  EXPECT_THROW(cpu::set_sgemm_kernel("avx3000"), Error);
  EXPECT_FALSE(cpu::sgemm_kernel_supported("avx3000"));
  EXPECT_TRUE(cpu::sgemm_kernel_supported("portable"));
  if (!cpu::sgemm_kernel_supported("avx512")) EXPECT_THROW(cpu::set_sgemm_kernel("avx512"), Error);
  cpu::set_sgemm_kernel("auto");
  EXPECT_TRUE(cpu::sgemm_kernel_supported(cpu::sgemm_kernel_name()));
}

// op(a) @ op(b) of 2-d f32 tensors by the reference loop.
std::vector<float> reference_matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const int64_t m = ta ? a.size(1) : a.size(0), k = ta ? a.size(0) : a.size(1);
  const int64_t n = tb ? b.size(0) : b.size(1);
  std::vector<float> out(m * n);
  cpu::reference::sgemm(ta, tb, m, n, k, 1.0f, a.data<float>(), a.size(1), b.data<float>(),
                        b.size(1), 0.0f, out.data(), n);
  return out;
}

TEST(Matmul, CpuMatchesTheReferenceLoopForEveryTranspose) {
  Generator gen(11);
  for (const auto& [ta, tb] : kTransposes) {
    const Tensor a = testing::random_tensor(ta ? Shape{13, 9} : Shape{9, 13}, gen);
    const Tensor b = testing::random_tensor(tb ? Shape{20, 13} : Shape{13, 20}, gen);
    const Tensor c = prim::matmul(a, b, ta, tb);
    ASSERT_EQ(c.shape(), (Shape{9, 20}));
    const std::vector<float> want = reference_matmul(a, b, ta, tb);
    const std::vector<float> got = c.to_vector<float>();
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
  }
}

TEST(Gemm, CpuScalesTheProductAndAddsBetaTimesC) {
  Generator gen(12);
  const Tensor a = testing::random_tensor({5, 7}, gen), b = testing::random_tensor({6, 7}, gen);
  Tensor c = testing::random_tensor({5, 6}, gen);
  const std::vector<float> c0 = c.to_vector<float>();
  prim::gemm(false, true, -2.0, a, b, 0.5, c);
  const std::vector<float> ab = reference_matmul(a, b, false, true);
  const std::vector<float> got = c.to_vector<float>();
  for (size_t i = 0; i < ab.size(); ++i) EXPECT_NEAR(got[i], -2.0 * ab[i] + 0.5 * c0[i], 1e-5);
}

TEST(Gemm, CpuRejectsOtherDtypesThanF32) {
  const Tensor a({2, 2}, DType::f16), b({2, 2}, DType::f16);
  Tensor c({2, 2}, DType::f16);
  try {
    prim::gemm(false, false, 1.0, a, b, 0.0, c);
    ADD_FAILURE() << "an f16 product on the CPU did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prim::matmul(a, b), Error);
}

}  // namespace
}  // namespace remix
