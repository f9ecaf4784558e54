// The AVX-512 vector type of the SIMD micro-kernels (gemm, conv, batch norm): 16 floats in a zmm
// register. The templates in *_simd_tile.h / *_simd.h are written against this interface.
// Include only from files compiled with -mavx512f -mavx512dq (every *_avx512.cpp), and only
// inside an anonymous namespace's reach: the struct has internal linkage so that code compiled
// for this instruction set is never merged with a copy compiled for another one.
#pragma once

#include <immintrin.h>

namespace remix::cpu::detail {
namespace {

struct Avx512 {
  using Vec = __m512;
  static constexpr int width = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec broadcast(float x) { return _mm512_set1_ps(x); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  // Transposes the 16 x 16 matrix whose rows are r[0..15]: afterwards r[j][i] is the old r[i][j].
  // Within each 128-bit lane first (unpack, shuffle), then across lanes.
  static void transpose(Vec (&r)[16]) {
    Vec t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);      // per lane: r_i[0] r_i+1[0] r_i[1] r_i+1[1]
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);  // per lane: the same for elements 2, 3
    }
    for (int q = 0; q < 4; ++q) {  // u[4q + m], lane k: element 4k + m of rows 4q .. 4q + 3
      u[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
      u[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
      u[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
      u[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
    }
    for (int m = 0; m < 4;
         ++m) {  // row 4k + m gathers lane k of u[m], u[4 + m], u[8 + m], u[12 + m]
      const Vec even_low = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
      const Vec odd_low = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
      const Vec even_high = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
      const Vec odd_high = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
      r[m] = _mm512_shuffle_f32x4(even_low, even_high, 0x88);
      r[4 + m] = _mm512_shuffle_f32x4(odd_low, odd_high, 0x88);
      r[8 + m] = _mm512_shuffle_f32x4(even_low, even_high, 0xDD);
      r[12 + m] = _mm512_shuffle_f32x4(odd_low, odd_high, 0xDD);
    }
  }
  // a where mask > 0, else 0
  static Vec where_positive(Vec mask, Vec a) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mask, zero(), _CMP_GT_OQ), a);
  }
};

}  // namespace
}  // namespace remix::cpu::detail
