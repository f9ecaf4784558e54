// The portable vector type of the SIMD micro-kernels (gemm, conv, batch norm), for CPUs without
// AVX2: GCC's generic 4-float vectors, which the baseline x86-64 (SSE2) executes natively and any
// other target emulates. See simd_avx512.h for why the struct lives in an anonymous namespace.
#pragma once

#include <cstring>

namespace remix::cpu::detail {
namespace {

struct Portable {
  typedef float Vec __attribute__((vector_size(16)));
  static constexpr int width = 4;
  static Vec zero() { return Vec{0.0f, 0.0f, 0.0f, 0.0f}; }
  static Vec load(const float* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
  static Vec broadcast(float x) { return Vec{x, x, x, x}; }
  static Vec add(Vec a, Vec b) { return a + b; }
  static Vec sub(Vec a, Vec b) { return a - b; }
  static Vec mul(Vec a, Vec b) { return a * b; }
  static Vec fma(Vec a, Vec b, Vec c) { return a * b + c; }
  static Vec max(Vec a, Vec b) { return a > b ? a : b; }
  // Transposes the 4 x 4 matrix whose rows are r[0..3].
  static void transpose(Vec (&r)[4]) {
    float m[4][4];
    for (int i = 0; i < 4; ++i) store(m[i], r[i]);
    for (int j = 0; j < 4; ++j) r[j] = Vec{m[0][j], m[1][j], m[2][j], m[3][j]};
  }
  // a where mask > 0, else 0
  static Vec where_positive(Vec mask, Vec a) { return mask > zero() ? a : zero(); }
};

}  // namespace
}  // namespace remix::cpu::detail
