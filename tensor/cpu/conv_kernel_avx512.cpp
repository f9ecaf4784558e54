// The AVX-512 direct-convolution micro-kernels (contract in conv_kernel.h). Output tiles keep
// MR x NV zmm accumulators (24, 12 or 6 pixels by 1, 2 or 4 vectors of 16 output channels; row
// tiles fewer, as they also hold three weight rows); filter tiles keep 8 output channels by up to
// 3 vectors of 16 weights. Larger tiles made the compiler spill registers in the inner loop.
// Compiled with -mavx512f -mavx512dq -mavx2 -mfma (CMake does so for every *_avx512.cpp); conv.cpp
// calls it only on CPUs that report AVX-512.
#include "tensor/cpu/conv_simd_tile.h"
#include "tensor/cpu/simd_avx512.h"

namespace remix::cpu::detail {
namespace {

// Constant-initialised, so that no code of this file runs before the CPU has been checked.
constexpr ConvKernels kAvx512Kernels{"avx512",
                                     Avx512::width,
                                     {{24, 1, output_tile<Avx512, 24, 1>},
                                      {12, 2, output_tile<Avx512, 12, 2>},
                                      {8, 2, output_tile<Avx512, 8, 2>}},
                                     {{16, 1, output_tile_rows<Avx512, 16, 1, 3>},
                                      {8, 2, output_tile_rows<Avx512, 8, 2, 3>},
                                      {4, 4, output_tile_rows<Avx512, 4, 4, 3>}},
                                     {{8, 1, filter_tile<Avx512, 8, 1>},
                                      {8, 2, filter_tile<Avx512, 8, 2>},
                                      {8, 3, filter_tile<Avx512, 8, 3>}},
                                     transpose_rows<Avx512>};

}  // namespace

const ConvKernels& avx512_conv_kernels() {
  return kAvx512Kernels;
}

}  // namespace remix::cpu::detail
