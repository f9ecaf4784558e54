// Checked, allocating wrappers around the primitive table (tensor/backend.h).
//
// Each function validates its inputs (shapes, dtypes, devices: a clear remix::Error otherwise),
// allocates the outputs on the inputs' device and calls that device's backend. Nothing here
// records gradients: autograd/ builds differentiable operations from these.
#pragma once

#include <vector>

#include "tensor/backend.h"

namespace remix::prim {

// ---------------------------------------------------------------------------- data movement
void fill(Tensor& t, double value);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor cast(const Tensor& x, DType dtype);
// x[..., start:start+count] over the last axis.
Tensor slice_channels(const Tensor& x, int64_t start, int64_t count);
// Concatenation over the last axis.
Tensor concat_channels(const std::vector<Tensor>& parts);
// x zero-padded on the last axis up to `channels`.
Tensor pad_channels(const Tensor& x, int64_t channels);
Tensor index_select_rows(const Tensor& src, const Tensor& index);

// ------------------------------------------------------------------------------ elementwise
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor binary_scalar(BinaryOp op, const Tensor& a, double scalar, bool scalar_first = false);
Tensor unary(UnaryOp op, const Tensor& x);
Tensor relu_backward(const Tensor& dy, const Tensor& y);

// ------------------------------------------------------------------------------- reductions
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdim);
Tensor argmax(const Tensor& x, int64_t axis, bool keepdim = false);
// Sums a broadcast gradient back to `shape` (the inverse of broadcasting shape to g's shape).
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

// --------------------------------------------------------------------------------- GEMM
// op(a) @ op(b) for 2-D a, b.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false,
              bool transpose_b = false);
// c = alpha * op(a) @ op(b) + beta * c, into an existing c.
void gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& a, const Tensor& b,
          double beta, Tensor& c);

// -------------------------------------------------------------------------- convolution
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g);
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g);
Tensor conv2d_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g);

// --------------------------------------------------------------------------- batch norm
struct BatchNormOutputs {
  Tensor y, save_mean, save_invstd;
};
struct BatchNormGrads {
  Tensor dx, dz, dgamma, dbeta;
};
// z (residual) may be undefined. Updates running_mean/running_var in place.
BatchNormOutputs batch_norm_training(const Tensor& x, const Tensor& z, const Tensor& gamma,
                                     const Tensor& beta, Tensor& running_mean,
                                     Tensor& running_var, BatchNormActivation activation,
                                     double momentum, double eps);
Tensor batch_norm_inference(const Tensor& x, const Tensor& z, const Tensor& gamma,
                            const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, BatchNormActivation activation,
                            double eps);
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                                   const Tensor& gamma, const Tensor& beta,
                                   const Tensor& save_mean, const Tensor& save_invstd,
                                   BatchNormActivation activation, bool has_residual, double eps);

// ------------------------------------------------------------------------------ pooling
Tensor max_pool2d_forward(const Tensor& x, const PoolGeometry& g);
Tensor max_pool2d_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                           const PoolGeometry& g);
Tensor avg_pool2d_forward(const Tensor& x, const PoolGeometry& g);
Tensor avg_pool2d_backward(const Tensor& dy, const PoolGeometry& g);

// ---------------------------------------------------------------------------- ROI-Align
Tensor roi_align_forward(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p);
Tensor roi_align_backward(const Tensor& dy, const Tensor& boxes, const RoiAlignParams& p,
                          const Shape& x_shape);

// ------------------------------------------------------------------------ softmax, losses
Tensor log_softmax_forward(const Tensor& x);
Tensor log_softmax_backward(const Tensor& dy, const Tensor& y);
Tensor cross_entropy_forward(const Tensor& logits, const Tensor& targets);  // N losses
Tensor cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets);
// N x num_classes f32; label smoothing s gives on = 1 - s + s/K, off = s/K.
Tensor one_hot(const Tensor& labels, int64_t num_classes, double smoothing = 0.0);

// ---------------------------------------------------------------------------- optimizers
// All slots at once (one launch on a GPU); the one-tensor forms below are for tests and tools.
void sgd_update(const std::vector<SgdSlot>& slots, const Tensor& lr, const SgdOptions& opt,
                const Tensor* skip_if = nullptr);
void adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr, const AdamWOptions& opt,
                  const Tensor* skip_if = nullptr);
void amp_unscale(const std::vector<Tensor*>& grads, const Tensor& inv_scale, Tensor& found_inf);
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const Tensor& lr,
                const SgdOptions& opt, Tensor& step, const Tensor* skip_if = nullptr);
void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                  const Tensor& lr, Tensor& step, const AdamWOptions& opt,
                  const Tensor* skip_if = nullptr);
void amp_unscale(Tensor& grad, const Tensor& inv_scale, Tensor& found_inf);
void amp_update_scale(Tensor& scale, Tensor& inv_scale, Tensor& found_inf, Tensor& growth_tracker,
                      double growth, double backoff, int64_t interval);

// ------------------------------------------------------------------------ image pipeline
Tensor crop_pad_u8(const Tensor& in, const Tensor& offsets, int64_t pad);
Tensor hflip_u8(const Tensor& in, const Tensor& flags);
Tensor normalize_u8(const Tensor& in, const std::vector<float>& mean,
                    const std::vector<float>& std, DType out_dtype = DType::f32);

// -------------------------------------------------------------------- batch augmentation
void paste_resized(const Tensor& src, const Tensor& box, Interpolation mode, Tensor& dst);
void paste_box(const Tensor& src, const Tensor& box, Tensor& dst);
void fill_box(const Tensor& boxes, double value, Tensor& dst);

}  // namespace remix::prim
