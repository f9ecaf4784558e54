// Single-precision GEMM on raw row-major arrays, for CPU kernels that need a matrix product
// without wrapping their buffers in tensors (im2col convolution, for one):
//   C[m x n] = alpha * op(A) @ op(B) + beta * C,  op(A) is m x k, op(B) is k x n,
// lda/ldb/ldc are the row strides of A, B, C as stored (before the transpose).
// Cache-blocked and packed, with AVX-512 or AVX2+FMA micro-kernels chosen at run time from what
// the CPU reports, and threaded with OpenMP. beta == 0 means C is not read (it may hold NaNs).
// As in BLAS, alpha == 0 or k == 0 gives C = beta * C without reading A or B.
// Sizes must be >= 0 and lda, ldb, ldc at least the widths as stored; otherwise remix::Error.
#pragma once

#include <cstdint>
#include <string>

namespace remix::cpu {

void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

// The micro-kernel in use ("avx512", "avx2" or "portable"); tests and the benchmark print it.
std::string sgemm_kernel_name();

// Its instruction set, which the convolution and batch-norm kernels follow (one switch for all).
enum class Isa { portable, avx2, avx512 };
Isa active_isa();

// For tests and benchmarks: run every later product, in every thread, with the named kernel
// ("avx512", "avx2", "portable"), or with the fastest one this CPU supports ("auto", the
// default). Throws remix::Error for an unknown name or a kernel this CPU cannot run.
void set_sgemm_kernel(const std::string& name);

// Whether this CPU can run the named kernel (false for unknown names).
bool sgemm_kernel_supported(const std::string& name);

}  // namespace remix::cpu
