// Building the output plans of conv_plan.h: plane layouts, taps and packed weights.
#include "tensor/cpu/conv_plan.h"

#include <algorithm>

#include "tensor/cpu/gemm.h"

namespace remix::cpu {
namespace {

// Tiles run up to MR - 1 pixels past the last output pixel, and a flattened row past its end.
constexpr int64_t kTileSlack = detail::kMaxOutputTileRows + 4;

// The tile shape that pads `channels` output channels least; ties go to the middle shape
// (a balance of broadcasts and weight loads), then the narrower one.
detail::TileShape<detail::OutputTileFunction> output_shape(
    const detail::TileShape<detail::OutputTileFunction> (&shapes)[3], int width, int64_t channels) {
  const int order[3] = {1, 0, 2};
  int best = order[0];
  int64_t best_waste = -1;
  for (int i : order) {
    const int64_t nr = int64_t{shapes[i].nv} * width;
    const int64_t waste = (channels + nr - 1) / nr * nr - channels;
    if (best_waste < 0 || waste < best_waste) best = i, best_waste = waste;
  }
  return shapes[best];
}

OutputPlan empty_plan(int64_t in_channels, int64_t out_channels, int64_t out_h, int64_t out_w) {
  OutputPlan plan;
  plan.in_channels = in_channels;
  plan.out_channels = out_channels;
  plan.out_h = out_h;
  plan.out_w = out_w;
  return plan;
}

// Small images waste much of a flattened tile on the padding columns (a 4 x 4 output in planes
// 6 wide: 16 of every 22 pixels or worse). Then the images of the batch are interleaved
// innermost and a tile takes MR images at one output pixel instead, wasting nothing but the
// last tile's spare rows. Flattened tiles stay where they keep 3/4 of their rows.
constexpr double kMinFlattenedUse = 0.75;
constexpr int64_t kMaxBatchedPlaneBytes = int64_t{64} << 20;

// A chunk of the sum over taps and channels whose packed weights (taps x channels x NR floats)
// fit in L1 beside the planes' lines: whole passes where they fit (small layers), else whole
// rows of taps (row tiles need their 3) or single taps, by as many channels as fit.
constexpr int64_t kChunkWeightBytes = 24 << 10;

void choose_chunks(OutputPlan& plan, bool rows_of_three) {
  int64_t taps = 1;
  for (const OutputPass& pass : plan.passes)
    taps = std::max(taps, static_cast<int64_t>(pass.tap_offsets.size()));
  const int64_t per_tap_channel = plan.nr * 4;
  if (taps * plan.in_channels * per_tap_channel <= kChunkWeightBytes) {
    plan.chunk_taps = taps, plan.chunk_channels = plan.in_channels;
    return;
  }
  plan.chunk_taps = rows_of_three ? 3 : 1;
  plan.chunk_channels = std::clamp<int64_t>(kChunkWeightBytes / (plan.chunk_taps * per_tap_channel),
                                            1, plan.in_channels);
}

// Chooses the tile shape (and the batch interleaving) once the layout and the passes' sizes are
// known; then finishes the layout. `rows_of_three`: every pass's taps come in rows of 3
// consecutive inputs when the images are not interleaved (the row tiles apply).
void choose_tiles(OutputPlan& plan, int64_t images, bool rows_of_three) {
  PlaneLayout& L = plan.layout;
  const detail::ConvKernels& kernels = active_conv_kernels();
  int64_t used = 0, computed = 0;
  for (const OutputPass& pass : plan.passes) {
    used += pass.rows * pass.cols;
    computed += pass.tiles(kernels.output[1].mr, L.width) * kernels.output[1].mr;
  }
  const bool interleave = images >= 8 && used < kMinFlattenedUse * computed &&
                          plan.in_channels * L.positions() * images * 4 <= kMaxBatchedPlaneBytes;
  L.batch = interleave ? images : 1;
  plan.shape = output_shape(rows_of_three && !interleave ? kernels.output_rows : kernels.output,
                            kernels.width, plan.out_channels);
  plan.nr = int64_t{plan.shape.nv} * kernels.width;
  if (interleave) {
    L.channel_stride = L.batch;
    L.position_stride = plan.in_channels * L.batch;
    L.floats = L.positions() * L.position_stride + kTileSlack;
  } else {
    L.channel_stride = L.positions() + L.width + kTileSlack;
    L.position_stride = 1;
    L.floats = plan.in_channels * L.channel_stride;
  }
  for (OutputPass& pass : plan.passes)
    for (int64_t& offset : pass.tap_offsets) offset *= L.position_stride;
  choose_chunks(plan, rows_of_three && !interleave);
}

// packed[j][t][c][jj] = weight(tap t, input channel c, output channel j * NR + jj), zero past
// the last output channel. `taps` lists (r, s) pairs.
void pack_weights(OutputPass& pass, const OutputPlan& plan,
                  const std::vector<std::pair<int64_t, int64_t>>& taps, const float* w,
                  const Conv2dGeometry& g, bool forward) {
  const int64_t nr = plan.nr, depth = plan.in_channels, outs = plan.out_channels;
  const int64_t slivers = (outs + nr - 1) / nr, T = static_cast<int64_t>(taps.size());
  pass.sliver_floats = T * depth * nr;
  pass.weights.assign(static_cast<size_t>(slivers * pass.sliver_floats), 0.0f);
  float* packed = pass.weights.data();
  const int64_t W = active_conv_kernels().width, RSC = g.R * g.S * g.C;
#pragma omp parallel for schedule(static) if (slivers * pass.sliver_floats > (1 << 16))
  for (int64_t j = 0; j < slivers; ++j) {
    const int64_t o0 = j * nr, live = std::min(nr, outs - o0);
    for (int64_t t = 0; t < T; ++t) {
      const auto [r, s] = taps[t];
      float* dst = packed + j * pass.sliver_floats + t * depth * nr;
      const float* tap = w + (r * g.S + s) * g.C;  // w[k][r][s][c] = tap[k * RSC + c]
      if (!forward) {  // depth k, outputs c: runs of `live` channels are contiguous in w
        for (int64_t k = 0; k < depth; ++k)
          std::copy(tap + k * RSC + o0, tap + k * RSC + o0 + live, dst + k * nr);
        continue;
      }
      // depth c, outputs k: a transposition, by blocks of W channels where the sliver is full
      int64_t c = 0;
      if (live == nr)
        for (; c + W <= depth; c += W)
          active_conv_kernels().transpose_rows(tap + o0 * RSC + c, RSC, nr, dst + c * nr, nr);
      for (; c < depth; ++c)
        for (int64_t o = 0; o < live; ++o) dst[c * nr + o] = tap[(o0 + o) * RSC + c];
    }
  }
}

}  // namespace

int64_t OutputPlan::tiles(const OutputPass& pass) const {
  if (layout.batch == 1) return pass.tiles(shape.mr, layout.width);
  return pass.rows * pass.cols * ((layout.batch + shape.mr - 1) / shape.mr);
}

int64_t OutputPlan::total_tiles() const {
  int64_t total = 0;
  for (const OutputPass& pass : passes) total += tiles(pass);
  return total;
}

int64_t OutputPlan::tile_start(const OutputPass& pass, int64_t tile) const {
  if (layout.batch == 1) return tile * shape.mr;
  const int64_t chunks = (layout.batch + shape.mr - 1) / shape.mr;
  const int64_t pixel = tile / chunks, u = pixel / pass.cols, v = pixel % pass.cols;
  return (u * layout.width + v) * layout.position_stride + tile % chunks * shape.mr;
}

void OutputPlan::output_rows(const OutputPass& pass, float* out, int64_t t0, float** rows) const {
  const int64_t mr = shape.mr;
  const auto pixel = [&](int64_t n, int64_t u, int64_t v) {
    return out +
           ((n * out_h + u * step_h + pass.row0) * out_w + v * step_w + pass.col0) * out_channels;
  };
  if (layout.batch > 1) {  // MR images at one pixel
    const int64_t position = t0 / layout.position_stride, n0 = t0 % layout.position_stride;
    const int64_t u = position / layout.width, v = position % layout.width;
    for (int64_t i = 0; i < mr; ++i)
      rows[i] = n0 + i < layout.batch ? pixel(n0 + i, u, v) : nullptr;
    return;
  }
  int64_t u = t0 / layout.width, v = t0 % layout.width;  // one division per tile, not per pixel
  for (int64_t i = 0; i < mr; ++i) {
    rows[i] = u < pass.rows && v < pass.cols ? pixel(0, u, v) : nullptr;
    if (++v == layout.width) v = 0, ++u;
  }
}

// Tap (r, s) of output pixel (p, q) reads x[p*sh - ph + r][q*sw - pw + s], which is
// plane(r % sh, s % sw)[p + r / sh][q + s / sw].
OutputPlan forward_plan(const Conv2dGeometry& g, const float* w) {
  OutputPlan plan = empty_plan(g.C, g.K, g.P, g.Q);
  PlaneLayout& L = plan.layout;
  L.stride_h = g.stride_h, L.stride_w = g.stride_w, L.pad_top = g.pad_h, L.pad_left = g.pad_w;
  L.phases_h = std::min(g.stride_h, g.R), L.phases_w = std::min(g.stride_w, g.S);
  L.height = g.P + (g.R - 1) / g.stride_h, L.width = g.Q + (g.S - 1) / g.stride_w;
  OutputPass pass;
  pass.rows = g.P, pass.cols = g.Q;
  std::vector<std::pair<int64_t, int64_t>> taps;
  for (int64_t r = 0; r < g.R; ++r) {
    for (int64_t s = 0; s < g.S; ++s) {
      const int64_t plane = (r % g.stride_h) * L.phases_w + s % g.stride_w;
      pass.tap_offsets.push_back(plane * L.height * L.width + r / g.stride_h * L.width +
                                 s / g.stride_w);
      taps.emplace_back(r, s);
    }
  }
  plan.passes.push_back(std::move(pass));
  choose_tiles(plan, g.N, g.S == 3 && g.stride_w == 1);
  pack_weights(plan.passes[0], plan, taps, w, g, true);
  return plan;
}

// Pixel (h, w) = (u * sh + a, v * sw + b) of phase (a, b) receives dy[u + dr][v + ds] * w[.., r, s,
// ..] for every tap with a + ph - r = dr * sh and b + pw - s = ds * sw. dy is laid out as one
// plane, padded so that every u + dr and v + ds of a pixel that exists lands inside it.
OutputPlan backward_data_plan(const Conv2dGeometry& g, const float* w) {
  OutputPlan plan = empty_plan(g.K, g.C, g.H, g.W);
  plan.step_h = g.stride_h, plan.step_w = g.stride_w;
  PlaneLayout& L = plan.layout;
  const auto phase_size = [](int64_t size, int64_t phase, int64_t stride) {
    return phase < size ? (size - phase + stride - 1) / stride : 0;
  };
  const auto shift = [](int64_t phase, int64_t pad, int64_t tap, int64_t stride) {
    const int64_t d = phase + pad - tap;
    return d % stride == 0 ? d / stride : INT64_MIN;  // INT64_MIN: the tap does not reach
  };
  // Padding and plane size: the smallest that hold every shifted read.
  int64_t top = 0, left = 0, bottom = g.P, right = g.Q;  // rows [-top, bottom) of dy are read
  for (int64_t a = 0; a < g.stride_h; ++a)
    for (int64_t r = 0; r < g.R; ++r)
      if (const int64_t d = shift(a, g.pad_h, r, g.stride_h); d != INT64_MIN) {
        top = std::max(top, -d);
        bottom = std::max(bottom, phase_size(g.H, a, g.stride_h) + d);
      }
  for (int64_t b = 0; b < g.stride_w; ++b)
    for (int64_t s = 0; s < g.S; ++s)
      if (const int64_t d = shift(b, g.pad_w, s, g.stride_w); d != INT64_MIN) {
        left = std::max(left, -d);
        right = std::max(right, phase_size(g.W, b, g.stride_w) + d);
      }
  L.pad_top = top, L.pad_left = left, L.height = top + bottom, L.width = left + right;

  std::vector<std::vector<std::pair<int64_t, int64_t>>> taps;  // of each phase
  for (int64_t a = 0; a < g.stride_h; ++a) {
    for (int64_t b = 0; b < g.stride_w; ++b) {
      OutputPass pass;
      pass.rows = phase_size(g.H, a, g.stride_h), pass.cols = phase_size(g.W, b, g.stride_w);
      pass.row0 = a, pass.col0 = b;
      taps.emplace_back();
      for (int64_t r = 0; r < g.R; ++r) {
        for (int64_t s = g.S - 1; s >= 0; --s) {  // the inputs of a row in increasing order
          const int64_t dr = shift(a, g.pad_h, r, g.stride_h),
                        ds = shift(b, g.pad_w, s, g.stride_w);
          if (dr == INT64_MIN || ds == INT64_MIN) continue;
          pass.tap_offsets.push_back((dr + top) * L.width + ds + left);
          taps.back().emplace_back(r, s);
        }
      }
      plan.passes.push_back(std::move(pass));
    }
  }
  choose_tiles(plan, g.N, g.S == 3 && g.stride_h == 1 && g.stride_w == 1);
  for (size_t i = 0; i < plan.passes.size(); ++i)
    pack_weights(plan.passes[i], plan, taps[i], w, g, false);
  return plan;
}

const detail::ConvKernels& active_conv_kernels() {
  const std::string name = sgemm_kernel_name();
  if (name == "avx512") return detail::avx512_conv_kernels();
  if (name == "avx2") return detail::avx2_conv_kernels();
  return detail::portable_conv_kernels();
}

}  // namespace remix::cpu
