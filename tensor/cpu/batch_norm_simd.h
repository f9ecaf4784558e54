// The batch-norm row kernels of batch_norm_kernel.h written once for every SIMD width. Channels
// [0, C - C % W) go by vectors of W, the rest one by one with the same formula.
// Include only from a file compiled for the instruction set of its Simd type (see simd_avx512.h).
#pragma once

#include <cstdint>

#include "tensor/cpu/batch_norm_kernel.h"

namespace remix::cpu::detail {

template <class Simd>
struct BatchNormSimd {
  using Vec = typename Simd::Vec;
  static constexpr int W = Simd::width;

  static void moments(const float* x, int64_t rows, int64_t C, const float* shift, float* s1,
                      float* s2) {
    int64_t c = 0;
    for (; c + W <= C; c += W) {
      const Vec sh = Simd::load(shift + c);
      Vec a1 = Simd::zero(), a2 = Simd::zero();
      for (int64_t i = 0; i < rows; ++i) {
        const Vec d = Simd::sub(Simd::load(x + i * C + c), sh);
        a1 = Simd::add(a1, d);
        a2 = Simd::fma(d, d, a2);
      }
      Simd::store(s1 + c, Simd::add(Simd::load(s1 + c), a1));
      Simd::store(s2 + c, Simd::add(Simd::load(s2 + c), a2));
    }
    for (; c < C; ++c) {
      for (int64_t i = 0; i < rows; ++i) {
        const float d = x[i * C + c] - shift[c];
        s1[c] += d;
        s2[c] += d * d;
      }
    }
  }

  static void affine(const float* x, const float* z, const float* scale, const float* shift,
                     bool relu, int64_t rows, int64_t C, float* y) {
    for (int64_t i = 0; i < rows; ++i) {
      const float* xi = x + i * C;
      const float* zi = z ? z + i * C : nullptr;
      float* yi = y + i * C;
      int64_t c = 0;
      for (; c + W <= C; c += W) {
        Vec v = Simd::fma(Simd::load(xi + c), Simd::load(scale + c), Simd::load(shift + c));
        if (zi) v = Simd::add(v, Simd::load(zi + c));
        if (relu) v = Simd::max(v, Simd::zero());
        Simd::store(yi + c, v);
      }
      for (; c < C; ++c) {
        float v = xi[c] * scale[c] + shift[c] + (zi ? zi[c] : 0.0f);
        yi[c] = relu && !(v > 0.0f) ? 0.0f : v;  // as the vector max: NaN becomes 0
      }
    }
  }

  static void grad_sums(const float* dy, const float* x, const float* y, const float* mean,
                        int64_t rows, int64_t C, float* s1, float* s2) {
    int64_t c = 0;
    for (; c + W <= C; c += W) {
      const Vec m = Simd::load(mean + c);
      Vec a1 = Simd::zero(), a2 = Simd::zero();
      for (int64_t i = 0; i < rows; ++i) {
        Vec g = Simd::load(dy + i * C + c);
        if (y) g = Simd::where_positive(Simd::load(y + i * C + c), g);
        a1 = Simd::add(a1, g);
        a2 = Simd::fma(g, Simd::sub(Simd::load(x + i * C + c), m), a2);
      }
      Simd::store(s1 + c, Simd::add(Simd::load(s1 + c), a1));
      Simd::store(s2 + c, Simd::add(Simd::load(s2 + c), a2));
    }
    for (; c < C; ++c) {
      for (int64_t i = 0; i < rows; ++i) {
        const float g = y && !(y[i * C + c] > 0.0f) ? 0.0f : dy[i * C + c];
        s1[c] += g;
        s2[c] += g * (x[i * C + c] - mean[c]);
      }
    }
  }

  static void grad_input(const float* dy, const float* x, const float* y, const float* mean,
                         const float* per_g, const float* per_x, const float* offset, int64_t rows,
                         int64_t C, float* dx, float* dz) {
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t row = i * C;
      int64_t c = 0;
      for (; c + W <= C; c += W) {
        Vec g = Simd::load(dy + row + c);
        if (y) g = Simd::where_positive(Simd::load(y + row + c), g);
        const Vec centred = Simd::sub(Simd::load(x + row + c), Simd::load(mean + c));
        const Vec v = Simd::fma(Simd::load(per_g + c), g,
                                Simd::fma(Simd::load(per_x + c), centred, Simd::load(offset + c)));
        Simd::store(dx + row + c, v);
        if (dz) Simd::store(dz + row + c, g);
      }
      for (; c < C; ++c) {
        const float g = y && !(y[row + c] > 0.0f) ? 0.0f : dy[row + c];
        dx[row + c] = per_g[c] * g + per_x[c] * (x[row + c] - mean[c]) + offset[c];
        if (dz) dz[row + c] = g;
      }
    }
  }

  static constexpr BatchNormKernels kernels(const char* name) {
    return {name, moments, affine, grad_sums, grad_input};
  }
};

}  // namespace remix::cpu::detail
