// The AVX2 + FMA SGEMM micro-kernel: a 6 x 16 tile of C in 12 of the 16 ymm registers (6 rows of
// two 8-float vectors), two more for the row of B and one for the broadcast value of A.
// This file is compiled with -mavx2 -mfma (CMake does so for every *_avx2.cpp) and must only run
// on CPUs that report both; gemm.cpp checks that before choosing it.
#include "tensor/cpu/gemm_kernel.h"
#include "tensor/cpu/gemm_simd_tile.h"
#include "tensor/cpu/simd_avx2.h"

namespace remix::cpu::detail {
namespace {

constexpr int kRows = 6, kVectorsPerRow = 2;
constexpr int kCols = kVectorsPerRow * Avx2::width;

void avx2_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
               float beta) {
  simd_tile<Avx2, kRows, kVectorsPerRow>(kc, a, b, c, ldc, alpha, beta);
}

// Blocking: kc * NR * 4 bytes = 32 KiB of B per sliver, mc * kc * 4 = up to 528 KiB of A per
// block, a kc x nc panel of B of up to 8 MiB. The textbook sizes for these caches (kc = 256,
// mc = 144, so that the A block sits well inside a 512 KiB L2) measured 5-10% slower with two
// threads on an AMD EPYC (Zen 3): fewer and larger blocks mean fewer passes over C and over the
// packed B panel, which mattered more there than keeping the whole A block in L2.
// Constant-initialised, so that no code of this file runs before the CPU has been checked.
constexpr int64_t kMc = 264, kKc = 512, kNc = 4080;
constexpr SgemmKernel kAvx2Kernel{"avx2", kRows, kCols, kMc, kKc, kNc, avx2_tile};
static_assert(kRows * kCols <= kMaxTileElements, "the driver's scratch tile is too small");

}  // namespace

const SgemmKernel& avx2_sgemm_kernel() {
  return kAvx2Kernel;
}

}  // namespace remix::cpu::detail
