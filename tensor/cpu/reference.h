// The naive definitions of the CPU backend's optimised kernels: plain loops that read like the
// formulas, kept beside the fast code so that a reader can compare the two, the tests check the
// fast kernels against them, and a user can run the whole backend on them.
//
// The backend runs these loops instead of its optimised kernels when REMIX_CPU_REFERENCE=1
// is set in the environment, or after set_reference_kernels(true). They are slow (no blocking,
// no packing, no hand-written SIMD; convolution only splits the batch over the threads) but
// compute the same results up to the order of floating-point sums.
// Convolution, GEMM and batch norm are in reference.cpp; pooling and ROI-Align in
// reference_pooling.cpp. The elementwise kernels have no separate fast version: each is one
// formula per element (tensor/cpu/elementwise.cpp).
#pragma once

#include "tensor/backend.h"

namespace remix::cpu {

bool reference_kernels_enabled();
void set_reference_kernels(bool enabled);

namespace reference {

// y[n,p,q,k] = sum over r,s,c of x[n, p*sh - ph + r, q*sw - pw + s, c] * w[k,r,s,c]
void conv2d_forward(const float* x, const float* w, const Conv2dGeometry& g, float* y);
// dx[n,h,w,c] = sum over the (p,q,r,s) with h = p*sh - ph + r, w = q*sw - pw + s of dy[n,p,q,k] *
// w[k,r,s,c]
void conv2d_backward_data(const float* dy, const float* w, const Conv2dGeometry& g, float* dx);
// dw[k,r,s,c] = sum over n,p,q of dy[n,p,q,k] * x[n, p*sh - ph + r, q*sw - pw + s, c]
void conv2d_backward_filter(const float* dy, const float* x, const Conv2dGeometry& g, float* dw);

// C = alpha * op(A) @ op(B) + beta * C, as gemm.h defines it (C is not read when beta == 0):
//   C[i][j] = alpha * sum over p of op(A)[i][p] * op(B)[p][j] + beta * C[i][j]
void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

// Batch norm over the rows of x (rows x C), as tensor/backend.h defines it (see batch_norm.cpp).
void batch_norm_forward_training(const BatchNormForward& args);
void batch_norm_forward_inference(const BatchNormForward& args);
void batch_norm_backward(const BatchNormBackward& args);

// Max pooling: y[n,p,q,c] = max over the taps (r, s) inside the input of
// x[n, p*sh - ph + r, q*sw - pw + s, c] (NaN wins); dx receives dy at the first maximum.
void max_pool2d_forward(const float* x, const PoolGeometry& g, float* y);
void max_pool2d_backward(const float* dy, const float* x, const PoolGeometry& g, float* dx);
// Average pooling, count_include_pad: y = (sum over the taps inside the input) / (taps inside
// the padded input); dx receives dy / divisor at every tap.
void avg_pool2d_forward(const float* x, const PoolGeometry& g, float* y);
void avg_pool2d_backward(const float* dy, const PoolGeometry& g, float* dx);

// ROI-Align as tensor/backend.h defines it, box n pooling image n of the N x H x W x C map:
// y[n,ph,pw,c] = mean over the bin's sample grid of bilinear(x[n,:,:,c], sample); the backward
// pass sends dy times each sample's bilinear weights back to its four pixels.
void roi_align_forward(const float* x, const float* boxes, const RoiAlignParams& p, int64_t N,
                       int64_t H, int64_t W, int64_t C, float* y);
void roi_align_backward(const float* dy, const float* boxes, const RoiAlignParams& p, int64_t N,
                        int64_t H, int64_t W, int64_t C, float* dx);

}  // namespace reference
}  // namespace remix::cpu
