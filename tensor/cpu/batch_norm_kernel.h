// The row kernels of batch norm on the CPU (batch_norm.cpp drives them), one set per instruction
// set (batch_norm_kernel_avx512.cpp, _avx2.cpp, _portable.cpp, all from batch_norm_simd.h).
// Each works on `rows` rows of C channels (NHWC: a row is one pixel), vectors across channels:
//   moments:    s1[c] += x[i][c] - shift[c],  s2[c] += (x[i][c] - shift[c])^2
//   affine:     y[i][c] = act(x[i][c] * scale[c] + shift[c] [+ z[i][c]])      (z may be null)
//   grad_sums:  g = dy masked by the ReLU (y > 0; no mask when y is null),
//               s1[c] += g,  s2[c] += g * (x[i][c] - mean[c])
//   grad_input: dx[i][c] = per_g[c] * g + per_x[c] * (x[i][c] - mean[c]) + offset[c],
//               dz[i][c] = g  (when dz is not null)
#pragma once

#include <cstdint>

namespace remix::cpu::detail {

struct BatchNormKernels {
  const char* name;
  void (*moments)(const float* x, int64_t rows, int64_t C, const float* shift, float* s1,
                  float* s2);
  void (*affine)(const float* x, const float* z, const float* scale, const float* shift, bool relu,
                 int64_t rows, int64_t C, float* y);
  void (*grad_sums)(const float* dy, const float* x, const float* y, const float* mean,
                    int64_t rows, int64_t C, float* s1, float* s2);
  void (*grad_input)(const float* dy, const float* x, const float* y, const float* mean,
                     const float* per_g, const float* per_x, const float* offset, int64_t rows,
                     int64_t C, float* dx, float* dz);
};

const BatchNormKernels& portable_batch_norm_kernels();
const BatchNormKernels& avx2_batch_norm_kernels();
const BatchNormKernels& avx512_batch_norm_kernels();

}  // namespace remix::cpu::detail
