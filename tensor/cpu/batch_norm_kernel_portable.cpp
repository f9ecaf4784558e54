// The batch-norm row kernels (batch_norm_kernel.h) in portable code, 4 channels a vector
// (simd_portable.h), for CPUs without AVX2.
#include "tensor/cpu/batch_norm_simd.h"
#include "tensor/cpu/simd_portable.h"

namespace remix::cpu::detail {
namespace {

constexpr BatchNormKernels kPortableKernels = BatchNormSimd<Portable>::kernels("portable");

}  // namespace

const BatchNormKernels& portable_batch_norm_kernels() {
  return kPortableKernels;
}

}  // namespace remix::cpu::detail
