// The contract between the direct convolution (conv.cpp) and its micro-kernels
// (conv_kernel_portable.cpp, conv_kernel_avx2.cpp, conv_kernel_avx512.cpp).
//
// Both tiles are small matrix products whose operands are read in place, with no im2col matrix:
//
// The output tile (forward, and backward-data as a convolution of dy) computes MR output pixels
// by NR output channels. The input was first laid out as channel planes (conv.cpp), so that the
// MR pixels of a tile are MR consecutive floats of a plane for every tap and channel:
//   acc[i][j] = sum over taps t, channels c of  x[c * channel_stride + tap_offset[t] + i]
//                                              * w[tap_id[t] * w_tap_stride + c * NR + j]
//   rows[i][j] = acc[i][j]  (+ rows[i][j] when accumulating)   for rows[i] != null, j < cols
// The driver may cut the sum into chunks of taps and channels (accumulating after the first).
// One weight row of NR floats is loaded per (t, c) and each of the MR input values is broadcast
// against it: MR x NR / W multiply-adds for NR / W loads and MR broadcasts. A broadcast from
// memory issues about once per cycle, so with NR = W this runs at half the multiply-add rate;
// for kernels of 3 taps in a row at stride 1 the row tile broadcasts each input once for the 3
// output pixels it serves (output_tile_rows in conv_simd_tile.h).
//
// The filter tile (backward-filter) computes MR output channels k by NV vectors of a weight row
// (kernel row r fixed, (s, c) flattened), summing over pixels:
//   acc[i][v] += dy[pixel * dy_pixel + i] * x[pixel's patch row + v * W .. + W)
// where the pixels run over `images` images of `rows` rows of `cols` pixels; the tile is read from
// dw and stored back (a running sum), dw rows being ldw floats apart.
//
// Each SIMD kernel lives in a file compiled for its instruction set only and is called only after
// the CPU said it can run it (the same instruction set as the active SGEMM kernel, gemm.h).
#pragma once

#include <cstdint>

namespace remix::cpu::detail {

struct OutputTileArgs {
  const float* x;          // the first channel's planes, at the tile's first pixel
  int64_t channel_stride;  // floats from one channel's planes to the next one's
  int64_t channels;
  const int64_t* tap_offsets;
  const int32_t* tap_ids;  // which packed tap each offset multiplies
  int64_t taps;
  const float* w;  // packed weights: channel c of packed tap i at w + i * w_tap_stride + c * NR
  int64_t w_tap_stride;
  float* const* rows;  // MR output pointers (null: not an output pixel)
  int64_t cols;        // columns of the tile that exist (<= NR)
  bool accumulate;     // add to the output rather than overwrite it
};

struct FilterTileArgs {
  const float* dy;            // dy of the first pixel, at the tile's first output channel
  int64_t dy_pixel;           // floats between consecutive pixels of dy
  int64_t dy_row;             // floats between rows of dy
  const float* x;             // the first pixel's patch row, at the tile's first vector
  int64_t x_pixel;            // floats between the patches of consecutive pixels in a row
  int64_t x_row;              // floats between the patches of consecutive rows
  int64_t rows, cols;         // rows of pixels, pixels per row
  int64_t images;             // images, each `rows` rows
  int64_t dy_image, x_image;  // floats between the first pixels of consecutive images
  float* dw;                  // MR rows of NV * W floats, ldw apart, accumulated into
  int64_t ldw;
};

// The most pixel rows any output tile has (the drivers size their pointer arrays with it).
inline constexpr int kMaxOutputTileRows = 28;

using OutputTileFunction = void (*)(const OutputTileArgs&);
// dst[j * dst_stride + v] = src[v * stride + j] for v < count, j < W: W rows of channel planes
// from an NHWC row (the transposition that lays out the planes; scalar, it took a third of a
// 16-channel convolution's time), by W x W blocks transposed in registers. A last partial block
// is transposed whole with zeros for the missing rows: each dst row gets zeros at [count, count
// rounded up to W), which must be room that is padding or written later.
using TransposeRowsFunction = void (*)(const float* src, int64_t stride, int64_t count, float* dst,
                                       int64_t dst_stride);
using FilterTileFunction = void (*)(const FilterTileArgs&);

template <class Function>
struct TileShape {
  int mr = 0;  // rows of the tile (pixels, or output channels for the filter tile)
  int nv = 0;  // vectors per row
  Function run = nullptr;
};

// The tile shapes one instruction set offers; conv.cpp picks the one that wastes least.
struct ConvKernels {
  const char* name;
  int width;  // floats per vector
  TileShape<OutputTileFunction> output[3];
  TileShape<OutputTileFunction> output_rows[3];  // taps in rows of 3 consecutive inputs
  TileShape<FilterTileFunction> filter[3];
  TransposeRowsFunction transpose_rows;
};

const ConvKernels& portable_conv_kernels();
const ConvKernels& avx2_conv_kernels();
const ConvKernels& avx512_conv_kernels();

}  // namespace remix::cpu::detail
