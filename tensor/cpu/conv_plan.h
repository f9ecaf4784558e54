// How a direct convolution is laid out for the micro-kernels (conv_kernel.h): the channel planes
// of one input image, and the passes of output tiles that read them. Built once per call by
// conv_plan.cpp, run by conv.cpp; backward-filter lives in conv_filter.cpp. Internal to tensor/cpu.
#pragma once

#include <cstdint>
#include <memory>
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
  bool operator==(const PlaneLayout&) const = default;
};

// The output pixels one set of taps computes: sub-grid pixel (u, v), u < rows, v < cols, is
// output pixel (u * step_h + row0, v * step_w + col0) and sits at plane position u * width + v.
// A tile is MR pixels: MR consecutive positions of one image (flattened across the ends of rows,
// or, when the plan is row-aligned, within one row), or (batch > 1) MR images at one position.
// Tap t reads tap_offsets[t] floats after the pixel's position, with the packed weights of tap
// tap_ids[t] of weight set `weight_set` (several passes may share one set).
struct OutputPass {
  std::vector<int64_t> tap_offsets;
  std::vector<int32_t> tap_ids;
  int weight_set = 0;
  int64_t rows = 0, cols = 0, row0 = 0, col0 = 0;
};

struct OutputPlan {
  PlaneLayout layout;
  int64_t in_channels = 0, out_channels = 0;
  int64_t out_h = 0, out_w = 0, step_h = 1, step_w = 1;  // the whole output image
  detail::TileShape<detail::OutputTileFunction> shape;
  int64_t nr = 0;        // output channels per tile
  bool aligned = false;  // batch 1: a tile starts at a row's first pixel or MR pixels after one
  // The sum over taps and channels runs in chunks of chunk_taps x chunk_channels (conv.cpp).
  int64_t chunk_taps = 1, chunk_channels = 1;
  std::vector<OutputPass> passes;
  // Packed weights, [sliver][tap][input channel][NR], each set with its taps. Not zeroed when
  // allocated: packing writes every float.
  std::vector<std::unique_ptr<float[]>> weight_sets;
  std::vector<int64_t> weight_set_taps;

  // The packed weights of output channels [j * NR, j * NR + NR) for a pass.
  const float* sliver(const OutputPass& pass, int64_t j) const {
    return weight_sets[pass.weight_set].get() +
           j * weight_set_taps[pass.weight_set] * in_channels * nr;
  }
  int64_t tiles(const OutputPass& pass) const;
  int64_t total_tiles() const;
  // The plane element where a tile of a pass starts.
  int64_t tile_start(const OutputPass& pass, int64_t tile) const;
  // Where the MR pixels of the tile starting at t0 are written (null for those in the padding
  // columns, past the row's end when aligned, past the last row or past the last image). `out`
  // is the output of the image (batch 1) or of the whole batch.
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
