// The AVX2 + FMA vector type of the SIMD micro-kernels (gemm, conv, batch norm): 8 floats in a
// ymm register. Include only from files compiled with -mavx2 -mfma (every *_avx2.cpp); see
// simd_avx512.h for why the struct lives in an anonymous namespace.
#pragma once

#include <immintrin.h>

namespace remix::cpu::detail {
namespace {

struct Avx2 {
  using Vec = __m256;
  static constexpr int width = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec broadcast(float x) { return _mm256_set1_ps(x); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  // Transposes the 8 x 8 matrix whose rows are r[0..7]: afterwards r[j][i] is the old r[i][j].
  static void transpose(Vec (&r)[8]) {
    Vec t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int q = 0; q < 2; ++q) {  // u[4q + m], lane k: element 4k + m of rows 4q .. 4q + 3
      u[4 * q + 0] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
      u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
      u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
      u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
    }
    for (int m = 0; m < 4; ++m) {
      r[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
      r[4 + m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
  }
  // a where mask > 0, else 0
  static Vec where_positive(Vec mask, Vec a) {
    return _mm256_and_ps(_mm256_cmp_ps(mask, zero(), _CMP_GT_OQ), a);
  }
};

}  // namespace
}  // namespace remix::cpu::detail
