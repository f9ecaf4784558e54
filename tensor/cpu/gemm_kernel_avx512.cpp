// The AVX-512 SGEMM micro-kernel: a 14 x 32 tile of C in 28 of the 32 zmm registers (14 rows of
// two 16-float vectors), two more for the row of B; the broadcast value of A is folded into the
// multiply-add as a memory operand or takes one of the two registers left.
// This file is compiled with -mavx512f -mavx512dq -mavx2 -mfma (CMake does so for every
// *_avx512.cpp) and must only run on CPUs that report AVX512F and AVX512DQ; gemm.cpp checks that
// before choosing it.
#include "tensor/cpu/gemm_kernel.h"
#include "tensor/cpu/gemm_simd_tile.h"
#include "tensor/cpu/simd_avx512.h"

namespace remix::cpu::detail {
namespace {

constexpr int kRows = 14, kVectorsPerRow = 2;
constexpr int kCols = kVectorsPerRow * Avx512::width;

void avx512_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                 float beta) {
  simd_tile<Avx512, kRows, kVectorsPerRow>(kc, a, b, c, ldc, alpha, beta);
}

// Constant-initialised, so that no code of this file runs before the CPU has been checked.
// kc * NR * 4 bytes = 24 KiB of B for a 32-48 KiB L1; mc * kc * 4 = 252 KiB of A in L2.
constexpr SgemmKernel kAvx512Kernel{"avx512", kRows, kCols, 336, 192, 4096, avx512_tile};
static_assert(kRows * kCols <= kMaxTileElements, "the driver's scratch tile is too small");

}  // namespace

const SgemmKernel& avx512_sgemm_kernel() {
  return kAvx512Kernel;
}

}  // namespace remix::cpu::detail
