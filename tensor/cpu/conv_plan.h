// How a direct convolution is laid out for the micro-kernels (conv_kernel.h): the channel planes
// of one input image, and the passes of output tiles that read them. Built once per call by
// conv_plan.cpp, run by conv.cpp; backward-filter lives in conv_filter.cpp. Internal to tensor/cpu.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/backend.h"
#include "tensor/cpu/conv_kernel.h"

namespace remix::cpu {

// One image laid out channel by channel, each channel as phases_h x phases_w sub-sampled planes
// of height x width floats, zero padded:
//   plane(c, a, b)[u][v] = src[u * stride_h + a - pad_top][v * stride_w + b - pad_left][c]
// followed by zeros up to channel_stride (tiles run past the last plane). A position is one
// (a, b, u, v), numbered ((a * phases_w + b) * height + u) * width + v.
// With batch > 1 the planes hold every image of the batch instead, position-major and the images
// innermost: (c, position, n) is element (position * C + c) * batch + n. Then channel_stride is
// batch and position_stride C * batch.
struct PlaneLayout {
  int64_t stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  int64_t phases_h = 1, phases_w = 1;
  int64_t height = 0, width = 0;
  int64_t batch = 1;
  int64_t channel_stride = 0, position_stride = 1;
  int64_t floats = 0;  // the whole layout, slack included

  int64_t positions() const { return phases_h * phases_w * height * width; }
};

// The output pixels one set of taps computes: sub-grid pixel (u, v), u < rows, v < cols, is
// output pixel (u * step_h + row0, v * step_w + col0). A tile is MR consecutive elements of the
// planes: flattened pixels t = u * plane width + v of one image, or (batch > 1) MR images at one
// pixel.
struct OutputPass {
  std::vector<int64_t> tap_offsets;  // floats from a pixel's plane position to each tap's input
  std::vector<float> weights;        // packed: [sliver][tap][input channel][NR]
  int64_t rows = 0, cols = 0, row0 = 0, col0 = 0;
  int64_t sliver_floats = 0;  // taps * input channels * NR

  const float* sliver(int64_t j) const { return weights.data() + j * sliver_floats; }
  // Tiles of MR flattened pixels that cover the sub-grid of one image.
  int64_t tiles(int64_t mr, int64_t plane_width) const {
    const int64_t pixels = rows == 0 || cols == 0 ? 0 : (rows - 1) * plane_width + cols;
    return (pixels + mr - 1) / mr;
  }
};

struct OutputPlan {
  PlaneLayout layout;
  int64_t in_channels = 0, out_channels = 0;
  int64_t out_h = 0, out_w = 0, step_h = 1, step_w = 1;  // the whole output image
  detail::TileShape<detail::OutputTileFunction> shape;
  int64_t nr = 0;  // output channels per tile
  // The sum over taps and channels runs in chunks of chunk_taps x chunk_channels (conv.cpp).
  int64_t chunk_taps = 1, chunk_channels = 1;
  std::vector<OutputPass> passes;

  int64_t tiles(const OutputPass& pass) const;
  int64_t total_tiles() const;
  // The plane element where a tile of a pass starts.
  int64_t tile_start(const OutputPass& pass, int64_t tile) const;
  // Where the MR pixels of the tile starting at t0 are written (null for those in the padding
  // columns, past the last row or past the last image). `out` is the output of the image
  // (batch 1) or of the whole batch.
  void output_rows(const OutputPass& pass, float* out, int64_t t0, float** rows) const;
};

// The forward pass y = conv(x, w) and backward-data dx = conv_transpose(dy, w) as output plans.
OutputPlan forward_plan(const Conv2dGeometry& g, const float* w);
OutputPlan backward_data_plan(const Conv2dGeometry& g, const float* w);

// The micro-kernels of the instruction set the active SGEMM kernel uses (gemm.h).
const detail::ConvKernels& active_conv_kernels();

// dw = backward-filter of a convolution that is not pointwise (conv_filter.cpp).
void conv2d_filter_gradient(const float* dy, const float* x, const Conv2dGeometry& g, float* dw);

}  // namespace remix::cpu
