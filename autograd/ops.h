// Differentiable operations: what layers and user code call. Each one runs primitives
// (tensor/primitives.h) forward and, when an input requires a gradient, records a Node whose
// backward runs the matching backward primitives. Definitions live in autograd/functions/, one
// file per concept (elementwise.cpp, reduce.cpp, matmul.cpp, shape.cpp, conv.cpp, ...).
// Composite operations (mean = sum / n, linear = matmul + add, ...) record no node of their own:
// their gradient comes from the primitives they are built from.
#pragma once

#include <vector>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/backend.h"

namespace remix {

// ------------------------------------------------- elementwise (functions/elementwise.cpp)
// Binary operations broadcast like NumPy; gradients are summed back to each input's shape.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);
Tensor pow(const Tensor& a, double exponent);
Tensor rsub(const Tensor& a, double s);  // s - a
Tensor rdiv(const Tensor& a, double s);  // s / a
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor square(const Tensor& x);
// Not differentiable (compare): 1 where a > b / a == b, else 0.
Tensor greater(const Tensor& a, const Tensor& b);
Tensor equal(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);

// --------------------------------------------------------- reductions (functions/reduce.cpp)
// An empty axes list reduces over every axis.
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
// The gradient of max is shared equally between tied maxima (as torch.amax).
Tensor max(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);  // not differentiable

// --------------------------------------------------------------- GEMM (functions/matmul.cpp)
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false,
              bool transpose_b = false);

// ------------------------------------------------------ shapes, dtypes (functions/shape.cpp)
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_axis = 1);  // keeps axes before start_axis
Tensor cast(const Tensor& x, DType dtype);  // the gradient is cast back to x's dtype
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// Over the last (channel) axis of NHWC tensors.
Tensor slice_channels(const Tensor& x, int64_t start, int64_t count);
Tensor concat_channels(const std::vector<Tensor>& parts);
Tensor pad_channels(const Tensor& x, int64_t channels);  // zero channels appended

// --------------------------------------------------------------------- layers' functions
// (functions/conv.cpp, batch_norm.cpp, pool.cpp, roi_align.cpp, softmax.cpp, dropout.cpp)
// x: N x H x W x C, weight: K x R x S x C, bias: K or undefined.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride = 1,
              int64_t padding = 0);
// Training mode normalises with batch statistics and updates the running ones in place;
// inference mode uses the running statistics. `residual` (may be undefined) is added before
// the activation: y = act(bn(x) + residual).
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5,
                  BatchNormActivation activation = BatchNormActivation::none,
                  const Tensor& residual = Tensor());
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0,
                  bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0,
                  bool ceil_mode = false);
Tensor global_avg_pool(const Tensor& x);  // N x H x W x C -> N x C
// boxes: N x 4 f32 (x1, y1, x2, y2), no gradient.
Tensor roi_align(const Tensor& x, const Tensor& boxes, const RoiAlignParams& params);
Tensor log_softmax(const Tensor& x);  // over the last axis
Tensor softmax(const Tensor& x);      // exp(log_softmax(x))
// Mean over rows of -sum_k targets * log_softmax(logits); targets are soft (rows sum to 1) and
// receive no gradient. Logits are cast to f32 first.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);
// Hard labels (i32), optionally label-smoothed.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, double label_smoothing);
// KL(target || softmax(logits)) averaged over rows, as F.kl_div(log_softmax(z), t,
// reduction="batchmean"): sum_k t log t - t log_softmax(z), with 0 log 0 = 0.
Tensor kl_divergence(const Tensor& logits, const Tensor& targets);
// Zeroes each element with probability p and scales the rest by 1 / (1 - p) (training only).
Tensor dropout(const Tensor& x, double p, Generator& gen);

}  // namespace remix
