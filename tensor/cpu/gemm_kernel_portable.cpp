// The portable SGEMM micro-kernel, in plain C++ for CPUs without AVX2: a 4 x 8 tile of C that
// the compiler keeps in registers and vectorises for the baseline instruction set (SSE2 on
// x86-64). It follows the same contract as the SIMD kernels (gemm_kernel.h).
#include "tensor/cpu/gemm_kernel.h"

namespace remix::cpu::detail {
namespace {

constexpr int kRows = 4, kCols = 8;

void portable_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                   float beta) {
  float acc[kRows][kCols] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < kRows; ++i) {
      const float ai = a[p * kRows + i];
      for (int j = 0; j < kCols; ++j) acc[i][j] += ai * b[p * kCols + j];
    }
  }
  for (int i = 0; i < kRows; ++i) {
    float* row = c + i * ldc;
    for (int j = 0; j < kCols; ++j) {
      // C is not read when beta == 0 (it may hold NaNs).
      row[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * row[j];
    }
  }
}

// kc * NR * 4 bytes = 8 KiB of B in L1; mc * kc * 4 = 128 KiB of A in L2.
constexpr SgemmKernel kPortableKernel{"portable", kRows, kCols, 128, 256, 4096, portable_tile};
static_assert(kRows * kCols <= kMaxTileElements, "the driver's scratch tile is too small");

}  // namespace

const SgemmKernel& portable_sgemm_kernel() {
  return kPortableKernel;
}

}  // namespace remix::cpu::detail
