// The batch-norm row kernels (batch_norm_kernel.h) in AVX2 + FMA, 8 channels a vector. Compiled
// with -mavx2 -mfma; batch_norm.cpp calls them only on CPUs that report both.
#include "tensor/cpu/batch_norm_simd.h"
#include "tensor/cpu/simd_avx2.h"

namespace remix::cpu::detail {
namespace {

// Constant-initialised, so that no code of this file runs before the CPU has been checked.
constexpr BatchNormKernels kAvx2Kernels = BatchNormSimd<Avx2>::kernels("avx2");

}  // namespace

const BatchNormKernels& avx2_batch_norm_kernels() {
  return kAvx2Kernels;
}

}  // namespace remix::cpu::detail
