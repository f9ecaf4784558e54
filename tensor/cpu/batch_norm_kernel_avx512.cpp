// The batch-norm row kernels (batch_norm_kernel.h) in AVX-512, 16 channels a vector. Compiled
// with -mavx512f -mavx512dq; batch_norm.cpp calls them only on CPUs that report both.
#include "tensor/cpu/batch_norm_simd.h"
#include "tensor/cpu/simd_avx512.h"

namespace remix::cpu::detail {
namespace {

// Constant-initialised, so that no code of this file runs before the CPU has been checked.
constexpr BatchNormKernels kAvx512Kernels = BatchNormSimd<Avx512>::kernels("avx512");

}  // namespace

const BatchNormKernels& avx512_batch_norm_kernels() {
  return kAvx512Kernels;
}

}  // namespace remix::cpu::detail
