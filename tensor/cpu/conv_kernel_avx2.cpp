// The AVX2 + FMA direct-convolution micro-kernels (contract in conv_kernel.h). With 16 ymm
// registers: output tiles of 12 x 1, 6 x 2 or 2 x 4 vectors of 8 output channels (row tiles
// smaller: they hold three weight rows), filter tiles of 4 output channels by up to 3 vectors of
// 8 weights, plus the loaded row and one broadcast.
// Compiled with -mavx2 -mfma (CMake does so for every *_avx2.cpp); conv.cpp calls it only on
// CPUs that report both.
#include "tensor/cpu/conv_simd_tile.h"
#include "tensor/cpu/simd_avx2.h"

namespace remix::cpu::detail {
namespace {

// Constant-initialised, so that no code of this file runs before the CPU has been checked.
constexpr ConvKernels kAvx2Kernels{"avx2",
                                   Avx2::width,
                                   {{12, 1, output_tile<Avx2, 12, 1>},
                                    {6, 2, output_tile<Avx2, 6, 2>},
                                    {2, 4, output_tile<Avx2, 2, 4>}},
                                   {{10, 1, output_tile_rows<Avx2, 10, 1, 3>},
                                    {4, 2, output_tile_rows<Avx2, 4, 2, 3>},
                                    {2, 3, output_tile_rows<Avx2, 2, 3, 3>}},
                                   {{4, 1, filter_tile<Avx2, 4, 1>},
                                    {4, 2, filter_tile<Avx2, 4, 2>},
                                    {4, 3, filter_tile<Avx2, 4, 3>}},
                                   transpose_rows<Avx2>};

}  // namespace

const ConvKernels& avx2_conv_kernels() {
  return kAvx2Kernels;
}

}  // namespace remix::cpu::detail
