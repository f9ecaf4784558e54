// The contract between the packed SGEMM driver (gemm.cpp) and its micro-kernels
// (gemm_kernel_portable.cpp, gemm_kernel_avx2.cpp, gemm_kernel_avx512.cpp).
//
// The driver packs A into slivers of MR rows and B into slivers of NR columns, k-major, so that a
// micro-kernel reads both with unit stride:
//   packed A sliver:  a[p * MR + i] = op(A)[i][p],   packed B sliver:  b[p * NR + j] = op(B)[p][j]
// and computes one full MR x NR tile of C:
//   acc[i][j] = sum over p < kc of a[p * MR + i] * b[p * NR + j]
//   C[i][j]   = alpha * acc[i][j] + beta * C[i][j]      (C is not read when beta == 0)
// Tiles cut by the edge of C are computed into a scratch tile by the driver and copied out.
//
// Each SIMD kernel lives in a file compiled for its instruction set only and is called only after
// the CPU said it can run it; gemm.cpp itself is compiled for the baseline x86-64.
#pragma once

#include <cstdint>

namespace remix::cpu::detail {

using SgemmTileFunction = void (*)(int64_t kc, const float* a, const float* b, float* c,
                                   int64_t ldc, float alpha, float beta);

// A micro-kernel and the cache blocking that suits it. As a rule of thumb (each kernel file says
// what it chose and why):
//   kc: depth of a packed panel (a kc x NR sliver of B, reused for a whole block, sits in L1),
//   mc: rows of A packed at once (an mc x kc block, reused for every B sliver, sits in L2),
//   nc: columns of B packed at once (a kc x nc panel, reused for every block, sits in L3).
struct SgemmKernel {
  const char* name;
  int64_t mr, nr;
  int64_t mc, kc, nc;
  SgemmTileFunction tile;
};

// The largest MR x NR of any kernel, for the driver's scratch tile.
inline constexpr int64_t kMaxTileElements = 16 * 32;

// Each is defined in its own file. They only return a description (no SIMD instruction runs), so
// they are safe to call on any CPU.
const SgemmKernel& portable_sgemm_kernel();
const SgemmKernel& avx2_sgemm_kernel();
const SgemmKernel& avx512_sgemm_kernel();

// remix::cpu::sgemm with the given micro-kernel rather than the active one. Tests use it to run
// the blocking and tile shape of a kernel whose instruction set the CPU lacks, with an emulated
// tile function.
void sgemm_with_kernel(const SgemmKernel& kernel, bool transpose_a, bool transpose_b, int64_t m,
                       int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                       const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace remix::cpu::detail
