// Building the output plans of conv_plan.h: plane layouts, taps and packed weights.
#include "tensor/cpu/conv_plan.h"

#include <algorithm>

#include "tensor/cpu/gemm.h"

namespace remix::cpu {
namespace {

// Tiles run up to MR - 1 pixels past the last output pixel, and a flattened row past its end.
constexpr int64_t kTileSlack = detail::kMaxOutputTileRows + 4;

OutputPlan empty_plan(int64_t in_channels, int64_t out_channels, int64_t out_h, int64_t out_w) {
  OutputPlan plan;
  plan.in_channels = in_channels;
  plan.out_channels = out_channels;
  plan.out_h = out_h;
  plan.out_w = out_w;
  return plan;
}

// ------------------------------------------------------------------------- border classes

// Pixels near the border read some taps from the zero padding. Pixels whose taps fall inside
// the image alike form a class: a block of rows by a block of columns of the sub-grid (on a
// 4 x 4 output with a 3 x 3 kernel: the corners read 4 taps, the edges 6, the middle 9).
struct BorderClass {
  int64_t u0 = 0, rows = 0, v0 = 0, cols = 0;
  std::vector<int64_t> taps;  // indices into the pass's taps that read inside the image
};

// Runs of consecutive sub-grid rows (or columns) whose taps read inside the same way:
// inside(i, t) says whether tap t of sub-grid row i reads inside the image.
template <class Inside>
std::vector<std::pair<int64_t, std::vector<char>>> runs_of_equal_taps(int64_t count, int64_t taps,
                                                                      Inside inside) {
  std::vector<std::pair<int64_t, std::vector<char>>> runs;  // (first index, which taps)
  for (int64_t i = 0; i < count; ++i) {
    std::vector<char> mask(static_cast<size_t>(taps));
    for (int64_t t = 0; t < taps; ++t) mask[t] = inside(i, t);
    if (runs.empty() || runs.back().second != mask) runs.emplace_back(i, std::move(mask));
  }
  return runs;
}

// The border classes of a pass. A tap offset (before scaling by position_stride) is a plane
// position: plane (a, b) row du column dv; pixel (u, v) reads row u + du, column v + dv there,
// which is image row (u + du) * stride_h + a - pad_top (of src_h rows), likewise for columns.
// With split_columns false, a class spans every column (tiles of a row-aligned plan run along
// whole rows) and only the taps that read padding for all its pixels are skipped.
std::vector<BorderClass> border_classes(const OutputPass& pass, const PlaneLayout& L,
                                        int64_t src_h, int64_t src_w, bool split_columns = true) {
  const int64_t taps = static_cast<int64_t>(pass.tap_offsets.size()), plane = L.height * L.width;
  const auto row_inside = [&](int64_t u, int64_t t) {
    const int64_t off = pass.tap_offsets[t], a = off / plane / L.phases_w;
    const int64_t h = (u + off % plane / L.width) * L.stride_h + a - L.pad_top;
    return h >= 0 && h < src_h;
  };
  const auto col_inside = [&](int64_t v, int64_t t) {
    const int64_t off = pass.tap_offsets[t], b = off / plane % L.phases_w;
    const int64_t w = (v + off % plane % L.width) * L.stride_w + b - L.pad_left;
    return w >= 0 && w < src_w;
  };
  const auto row_runs = runs_of_equal_taps(pass.rows, taps, row_inside);
  const auto col_runs =
      split_columns ? runs_of_equal_taps(pass.cols, taps, col_inside)
                    : runs_of_equal_taps(pass.cols, taps, [](int64_t, int64_t) { return true; });
  std::vector<BorderClass> classes;
  for (size_t i = 0; i < row_runs.size(); ++i) {
    for (size_t j = 0; j < col_runs.size(); ++j) {
      BorderClass c;
      c.u0 = row_runs[i].first, c.v0 = col_runs[j].first;
      c.rows = (i + 1 < row_runs.size() ? row_runs[i + 1].first : pass.rows) - c.u0;
      c.cols = (j + 1 < col_runs.size() ? col_runs[j + 1].first : pass.cols) - c.v0;
      for (int64_t t = 0; t < taps; ++t)
        if (row_runs[i].second[t] && col_runs[j].second[t]) c.taps.push_back(t);
      classes.push_back(std::move(c));
    }
  }
  return classes;
}

// Each pass split into its border classes, which skip the taps that read only zeros: by rows and
// columns for interleaved planes (a tile is one pixel, so a class of one row or column wastes
// nothing), by rows for row-aligned tiles (whole kernel rows drop out at the top and bottom).
void split_border_classes(OutputPlan& plan, int64_t src_h, int64_t src_w, bool split_columns) {
  std::vector<OutputPass> split;
  for (const OutputPass& pass : plan.passes) {
    for (const BorderClass& c : border_classes(pass, plan.layout, src_h, src_w, split_columns)) {
      OutputPass part;
      part.weight_set = pass.weight_set;
      part.rows = c.rows, part.cols = c.cols;
      part.row0 = pass.row0 + c.u0 * plan.step_h, part.col0 = pass.col0 + c.v0 * plan.step_w;
      for (int64_t t : c.taps) {  // sub-grid (0, 0) of the class is (u0, v0) of the pass
        part.tap_offsets.push_back(pass.tap_offsets[t] + c.u0 * plan.layout.width + c.v0);
        part.tap_ids.push_back(pass.tap_ids[t]);
      }
      split.push_back(std::move(part));
    }
  }
  plan.passes = std::move(split);
}

// ------------------------------------------------------------------------------ tile shapes

// Small images waste much of a flattened tile on the padding columns, and much of the kernel
// on padding taps (a 4 x 4 output with a 3 x 3 kernel: 44 of 144 products are with zeros).
// When the cost below says so, the images of the batch are interleaved innermost and a tile
// takes MR images at one output pixel instead; each border class then skips its padding taps.
constexpr double kMinInterleavedSaving = 0.8;
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

// Tiles of MR pixels over a pass of one image: flattened across row ends, or row by row.
int64_t pass_tiles(const OutputPass& pass, int64_t mr, int64_t plane_width, bool aligned) {
  if (pass.rows == 0 || pass.cols == 0) return 0;
  if (aligned) return pass.rows * ((pass.cols + mr - 1) / mr);
  return ((pass.rows - 1) * plane_width + pass.cols + mr - 1) / mr;
}

struct TileChoice {
  detail::TileShape<detail::OutputTileFunction> shape;
  bool aligned = false;
  double cost = 0;  // multiply-adds per image, zeros and padding included
};

// The tile shape and alignment that compute least (pixels computed x taps x output channels
// rounded up to NR); ties go to the middle shape (a balance of broadcasts and weight loads),
// then the narrower one, and to row-aligned tiles.
TileChoice cheapest_tiles(const OutputPlan& plan,
                          const detail::TileShape<detail::OutputTileFunction> (&shapes)[3],
                          int width) {
  TileChoice best;
  best.cost = -1;
  for (int i : {1, 0, 2}) {
    const int64_t nr = int64_t{shapes[i].nv} * width;
    const int64_t channels = (plan.out_channels + nr - 1) / nr * nr;
    for (bool aligned : {true, false}) {
      double cost = 0;
      for (const OutputPass& pass : plan.passes)
        cost += double(pass_tiles(pass, shapes[i].mr, plan.layout.width, aligned)) *
                shapes[i].mr * pass.tap_offsets.size() * channels;
      if (best.cost < 0 || cost < best.cost) best = {shapes[i], aligned, cost};
    }
  }
  return best;
}

// The same for interleaved images: every pixel of every border class with only its taps, the
// batch rounded up to MR.
TileChoice cheapest_interleaved_tiles(const OutputPlan& plan, int64_t images, int64_t src_h,
                                      int64_t src_w, const detail::ConvKernels& kernels) {
  double products = 0;  // pixel x tap products that read inside the image
  for (const OutputPass& pass : plan.passes)
    for (const BorderClass& c : border_classes(pass, plan.layout, src_h, src_w))
      products += double(c.rows) * c.cols * c.taps.size();
  TileChoice best;
  best.cost = -1;
  for (int i : {1, 0, 2}) {
    const auto& shape = kernels.output[i];
    const int64_t nr = int64_t{shape.nv} * kernels.width;
    const int64_t channels = (plan.out_channels + nr - 1) / nr * nr;
    const double batch = double((images + shape.mr - 1) / shape.mr * shape.mr) / images;
    const double cost = products * batch * channels;
    if (best.cost < 0 || cost < best.cost) best = {shape, false, cost};
  }
  return best;
}

// Chooses the tile shape, the alignment and the batch interleaving once the layout and the
// passes' taps are known; then finishes the layout. `rows_of_three`: every pass's taps come in
// rows of 3 consecutive inputs when the images are not interleaved (the row tiles apply).
void choose_tiles(OutputPlan& plan, int64_t images, int64_t src_h, int64_t src_w,
                  bool rows_of_three) {
  PlaneLayout& L = plan.layout;
  const detail::ConvKernels& kernels = active_conv_kernels();
  const TileChoice flat =
      cheapest_tiles(plan, rows_of_three ? kernels.output_rows : kernels.output, kernels.width);
  bool interleave = images >= 8 && plan.in_channels * L.positions() * images * 4 <=
                                       kMaxBatchedPlaneBytes;
  TileChoice choice = flat;
  if (interleave) {
    const TileChoice batched = cheapest_interleaved_tiles(plan, images, src_h, src_w, kernels);
    interleave = batched.cost < kMinInterleavedSaving * flat.cost;
    if (interleave) choice = batched;
  }
  L.batch = interleave ? images : 1;
  plan.shape = choice.shape;
  plan.aligned = choice.aligned;
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
}

// After the weights are packed: border classes (not for flattened tiles, which run across rows),
// tap offsets in floats, and the chunks of the sum.
void finish_plan(OutputPlan& plan, int64_t src_h, int64_t src_w, bool rows_of_three) {
  const bool interleaved = plan.layout.batch > 1;
  if (interleaved || plan.aligned) split_border_classes(plan, src_h, src_w, interleaved);
  for (OutputPass& pass : plan.passes)
    for (int64_t& offset : pass.tap_offsets) offset *= plan.layout.position_stride;
  choose_chunks(plan, rows_of_three && !interleaved);
}

// Weight set `set` for the taps listed as (r, s) pairs, packed:
//   packed[j][t][c][jj] = weight(tap t, input channel c, output channel j * NR + jj)
// zero past the last output channel.
void pack_weights(OutputPlan& plan, int set, const std::vector<std::pair<int64_t, int64_t>>& taps,
                  const float* w, const Conv2dGeometry& g, bool forward) {
  const int64_t nr = plan.nr, depth = plan.in_channels, outs = plan.out_channels;
  const int64_t slivers = (outs + nr - 1) / nr, T = static_cast<int64_t>(taps.size());
  const int64_t sliver_floats = T * depth * nr;
  if (plan.weight_sets.size() <= static_cast<size_t>(set)) {
    plan.weight_sets.resize(set + 1);
    plan.weight_set_taps.resize(set + 1);
  }
  plan.weight_set_taps[set] = T;
  plan.weight_sets[set] = std::make_unique_for_overwrite<float[]>(slivers * sliver_floats);
  float* packed = plan.weight_sets[set].get();
  const int64_t W = active_conv_kernels().width, RSC = g.R * g.S * g.C;
#pragma omp parallel for schedule(static) if (slivers * sliver_floats > (1 << 16))
  for (int64_t j = 0; j < slivers; ++j) {
    const int64_t o0 = j * nr, live = std::min(nr, outs - o0);
    for (int64_t t = 0; t < T; ++t) {
      const auto [r, s] = taps[t];
      float* dst = packed + j * sliver_floats + t * depth * nr;
      const float* tap = w + (r * g.S + s) * g.C;  // w[k][r][s][c] = tap[k * RSC + c]
      if (live < nr)  // the last sliver's missing output channels multiply as zeros
        for (int64_t k = 0; k < depth; ++k) std::fill(dst + k * nr + live, dst + k * nr + nr, 0.0f);
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
  if (layout.batch == 1) return pass_tiles(pass, shape.mr, layout.width, aligned);
  return pass.rows * pass.cols * ((layout.batch + shape.mr - 1) / shape.mr);
}

int64_t OutputPlan::total_tiles() const {
  int64_t total = 0;
  for (const OutputPass& pass : passes) total += tiles(pass);
  return total;
}

int64_t OutputPlan::tile_start(const OutputPass& pass, int64_t tile) const {
  if (layout.batch == 1 && !aligned) return tile * shape.mr;
  if (layout.batch == 1) {
    const int64_t per_row = (pass.cols + shape.mr - 1) / shape.mr;
    return tile / per_row * layout.width + tile % per_row * shape.mr;
  }
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
  const int64_t last_row = aligned ? u : pass.rows - 1;  // an aligned tile stays in its row
  for (int64_t i = 0; i < mr; ++i) {
    rows[i] = u <= last_row && u < pass.rows && v < pass.cols ? pixel(0, u, v) : nullptr;
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
      pass.tap_ids.push_back(static_cast<int32_t>(taps.size()));
      taps.emplace_back(r, s);
    }
  }
  plan.passes.push_back(std::move(pass));
  const bool rows_of_three = g.S == 3 && g.stride_w == 1;
  choose_tiles(plan, g.N, g.H, g.W, rows_of_three);
  pack_weights(plan, 0, taps, w, g, true);
  finish_plan(plan, g.H, g.W, rows_of_three);
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
      pass.weight_set = static_cast<int>(taps.size());
      taps.emplace_back();
      for (int64_t r = 0; r < g.R; ++r) {
        for (int64_t s = g.S - 1; s >= 0; --s) {  // the inputs of a row in increasing order
          const int64_t dr = shift(a, g.pad_h, r, g.stride_h),
                        ds = shift(b, g.pad_w, s, g.stride_w);
          if (dr == INT64_MIN || ds == INT64_MIN) continue;
          pass.tap_offsets.push_back((dr + top) * L.width + ds + left);
          pass.tap_ids.push_back(static_cast<int32_t>(taps.back().size()));
          taps.back().emplace_back(r, s);
        }
      }
      plan.passes.push_back(std::move(pass));
    }
  }
  const bool rows_of_three = g.S == 3 && g.stride_h == 1 && g.stride_w == 1;
  choose_tiles(plan, g.N, g.P, g.Q, rows_of_three);
  for (size_t i = 0; i < taps.size(); ++i)
    pack_weights(plan, static_cast<int>(i), taps[i], w, g, false);
  finish_plan(plan, g.P, g.Q, rows_of_three);
  return plan;
}

const detail::ConvKernels& active_conv_kernels() {
  switch (active_isa()) {
    case Isa::avx512: return detail::avx512_conv_kernels();
    case Isa::avx2: return detail::avx2_conv_kernels();
    case Isa::portable: break;
  }
  return detail::portable_conv_kernels();
}

}  // namespace remix::cpu
