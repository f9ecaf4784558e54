// Exercise 3 (docs/EXERCISES.md): the convolution as its definition, to swap in for the fast one.
//   y[n, p, q, k] = sum over r, s, c of x[n, p*stride - pad + r, q*stride - pad + s, c] * w[k, r, s, c]
// (taps outside the input read zero). x is N x H x W x C, w is K x R x S x C, y is N x P x Q x K,
// P = (H + 2*pad - R) / stride + 1, likewise Q: remix's layouts (tensor/backend.h).
#pragma once

#include "tensor/tensor.h"

namespace remix::exercises {

Tensor naive_conv2d(const Tensor& x, const Tensor& w, int64_t stride, int64_t pad);

}  // namespace remix::exercises
