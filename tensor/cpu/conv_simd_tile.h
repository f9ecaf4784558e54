// The direct-convolution micro-kernels written once for every SIMD width (contract in
// conv_kernel.h): output_tile<Simd, MR, NV> and filter_tile<Simd, MR, NV>. Their definitions
// as plain loops are the comments above each; conv_reference.cpp holds the whole convolution
// as loops.
//
// Include this only from a file compiled for the instruction set of its Simd type, and define
// that type in an anonymous namespace (see gemm_simd_tile.h for why).
#pragma once

#include <cstdint>
#include <cstring>

#include "tensor/cpu/conv_kernel.h"

namespace remix::cpu::detail {

// rows[i][j] = acc[i][j] (+ rows[i][j] when accumulating) for the rows and columns that exist.
template <class Simd, int MR, int NV>
inline void store_output_tile(const OutputTileArgs& a, typename Simd::Vec (&acc)[MR][NV]) {
  using Vec = typename Simd::Vec;
  constexpr int W = Simd::width;
  constexpr int NR = NV * W;
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    float* row = a.rows[i];
    if (row == nullptr) continue;
    if (a.cols == NR) {
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        const Vec v = a.accumulate ? Simd::add(acc[i][j], Simd::load(row + j * W)) : acc[i][j];
        Simd::store(row + j * W, v);
      }
      continue;
    }
    alignas(64) float tile_row[NR];  // a ragged last tile: only `cols` columns exist
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) Simd::store(tile_row + j * W, acc[i][j]);
    for (int64_t j = 0; j < a.cols; ++j) row[j] = a.accumulate ? row[j] + tile_row[j] : tile_row[j];
  }
}

// for t, c:  acc[i][j] += x[c * channel_stride + tap_offset[t] + i]
//                        * w[tap_id[t] * w_tap_stride + c * NR + j]
template <class Simd, int MR, int NV>
void output_tile(const OutputTileArgs& a) {
  using Vec = typename Simd::Vec;
  constexpr int W = Simd::width;
  constexpr int NR = NV * W;
  Vec acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = Simd::zero();
  }
  for (int64_t t = 0; t < a.taps; ++t) {
    const float* x = a.x + a.tap_offsets[t];
    const float* w = a.w + a.tap_ids[t] * a.w_tap_stride;
    for (int64_t c = 0; c < a.channels; ++c, x += a.channel_stride, w += NR) {
      Vec wv[NV];
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) wv[j] = Simd::load(w + j * W);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const Vec xi = Simd::broadcast(x[i]);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[i][j] = Simd::fma(xi, wv[j], acc[i][j]);
      }
    }
  }
  store_output_tile<Simd, MR, NV>(a, acc);
}

// The same sum when the taps come in rows of S taps whose inputs are consecutive floats (3x3
// kernels at stride 1): tap_offsets[r * S] starts row r, whose packed taps are tap_ids[r * S] + s.
// Input x[p] of a row serves output pixel p - s through tap s, so each input value is broadcast
// once for S multiply-adds:
//   for r, c, p < MR + S - 1, s < S with 0 <= p - s < MR:
//     acc[p - s][j] += x[c * channel_stride + tap_offset[r * S] + p] * w[tap_id[r * S] + s][c][j]
template <class Simd, int MR, int NV, int S>
void output_tile_rows(const OutputTileArgs& a) {
  using Vec = typename Simd::Vec;
  constexpr int W = Simd::width;
  constexpr int NR = NV * W;
  Vec acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = Simd::zero();
  }
  for (int64_t t = 0; t < a.taps; t += S) {
    const float* x = a.x + a.tap_offsets[t];
    const float* w = a.w + a.tap_ids[t] * a.w_tap_stride;
    for (int64_t c = 0; c < a.channels; ++c, x += a.channel_stride, w += NR) {
      Vec wv[S][NV];
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) {
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) wv[s][j] = Simd::load(w + s * a.w_tap_stride + j * W);
      }
#pragma GCC unroll 40
      for (int p = 0; p < MR + S - 1; ++p) {
        const Vec xp = Simd::broadcast(x[p]);
#pragma GCC unroll 4
        for (int s = 0; s < S; ++s) {
          if (p - s < 0 || p - s >= MR) continue;
#pragma GCC unroll 4
          for (int j = 0; j < NV; ++j) acc[p - s][j] = Simd::fma(xp, wv[s][j], acc[p - s][j]);
        }
      }
    }
  }
  store_output_tile<Simd, MR, NV>(a, acc);
}

// for each pixel:  acc[i][v] += dy[pixel][i] * x[pixel's patch row][v * W .. v * W + W)
template <class Simd, int MR, int NV>
void filter_tile(const FilterTileArgs& a) {
  using Vec = typename Simd::Vec;
  constexpr int W = Simd::width;
  Vec acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = Simd::load(a.dw + i * a.ldw + v * W);
  }
  for (int64_t row = 0; row < a.images * a.rows; ++row) {
    const int64_t image = row / a.rows, image_row = row % a.rows;
    const float* dy = a.dy + image * a.dy_image + image_row * a.dy_row;
    const float* x = a.x + image * a.x_image + image_row * a.x_row;
    for (int64_t q = 0; q < a.cols; ++q, dy += a.dy_pixel, x += a.x_pixel) {
      Vec xv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) xv[v] = Simd::load(x + v * W);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const Vec g = Simd::broadcast(dy[i]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = Simd::fma(g, xv[v], acc[i][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) Simd::store(a.dw + i * a.ldw + v * W, acc[i][v]);
  }
}

// dst[j * dst_stride + v] = src[v * stride + j] for v < count, j < W; then zeros up to the next
// multiple of W in each dst row
template <class Simd>
void transpose_rows(const float* src, int64_t stride, int64_t count, float* dst,
                    int64_t dst_stride) {
  using Vec = typename Simd::Vec;
  constexpr int W = Simd::width;
  for (int64_t v = 0; v < count; v += W) {
    Vec r[W];
#pragma GCC unroll 16
    for (int i = 0; i < W; ++i) r[i] = v + i < count ? Simd::load(src + (v + i) * stride) : Simd::zero();
    Simd::transpose(r);
#pragma GCC unroll 16
    for (int j = 0; j < W; ++j) Simd::store(dst + j * dst_stride + v, r[j]);
  }
}

}  // namespace remix::cpu::detail
