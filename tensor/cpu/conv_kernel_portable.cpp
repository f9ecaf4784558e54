// The portable direct-convolution micro-kernels (contract in conv_kernel.h), for CPUs without
// AVX2, on the generic 4-float vectors of simd_portable.h.
#include "tensor/cpu/conv_simd_tile.h"
#include "tensor/cpu/simd_portable.h"

namespace remix::cpu::detail {
namespace {

constexpr ConvKernels kPortableKernels{"portable",
                                       Portable::width,
                                       {{8, 1, output_tile<Portable, 8, 1>},
                                        {4, 2, output_tile<Portable, 4, 2>},
                                        {2, 4, output_tile<Portable, 2, 4>}},
                                       {{10, 1, output_tile_rows<Portable, 10, 1, 3>},
                                        {4, 2, output_tile_rows<Portable, 4, 2, 3>},
                                        {2, 3, output_tile_rows<Portable, 2, 3, 3>}},
                                       {{4, 1, filter_tile<Portable, 4, 1>},
                                        {4, 2, filter_tile<Portable, 4, 2>},
                                        {4, 3, filter_tile<Portable, 4, 3>}},
                                       transpose_rows<Portable>};

}  // namespace

const ConvKernels& portable_conv_kernels() {
  return kPortableKernels;
}

}  // namespace remix::cpu::detail
