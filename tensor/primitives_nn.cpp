// Checked wrappers: convolution, batch norm, pooling, ROI-Align, softmax and losses.
#include "tensor/primitives.h"
#include "tensor/profile.h"

namespace remix::prim {

namespace {

Backend& backend(const Tensor& t) { return backend_for(t.device()); }

void check_activation(const Tensor& x, const char* what) {
  REMIX_CHECK(is_floating(x.dtype()), "{}: expected a floating-point tensor, got {}", what,
              dtype_name(x.dtype()));
}

void check_conv(const Tensor& a, const Tensor& b, const char* what) {
  check_same_device(a, b, what);
  REMIX_CHECK(a.dtype() == b.dtype(), "{}: dtypes {} and {} differ", what, dtype_name(a.dtype()),
              dtype_name(b.dtype()));
  check_activation(a, what);
}

Shape nhwc(int64_t n, int64_t h, int64_t w, int64_t c) { return {n, h, w, c}; }

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g) {
  const profile::Scope timed(profile::Kind::conv_forward);
  check_conv(x, w, "conv2d");
  REMIX_CHECK(x.shape() == nhwc(g.N, g.H, g.W, g.C) && w.shape() == nhwc(g.K, g.R, g.S, g.C),
              "conv2d: input {} / weight {} do not match the geometry", to_string(x.shape()),
              to_string(w.shape()));
  Tensor y(nhwc(g.N, g.P, g.Q, g.K), x.dtype(), x.device());
  backend(x).conv2d_forward(x, w, g, y);
  return y;
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g) {
  const profile::Scope timed(profile::Kind::conv_backward_data);
  check_conv(dy, w, "conv2d_backward_data");
  REMIX_CHECK(dy.shape() == nhwc(g.N, g.P, g.Q, g.K), "conv2d_backward_data: dy is {}, expected {}",
              to_string(dy.shape()), to_string(nhwc(g.N, g.P, g.Q, g.K)));
  Tensor dx(nhwc(g.N, g.H, g.W, g.C), dy.dtype(), dy.device());
  backend(dy).conv2d_backward_data(dy, w, g, dx);
  return dx;
}

Tensor conv2d_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g) {
  const profile::Scope timed(profile::Kind::conv_backward_filter);
  check_conv(dy, x, "conv2d_backward_filter");
  REMIX_CHECK(dy.shape() == nhwc(g.N, g.P, g.Q, g.K),
              "conv2d_backward_filter: dy is {}, expected {}", to_string(dy.shape()),
              to_string(nhwc(g.N, g.P, g.Q, g.K)));
  Tensor dw(nhwc(g.K, g.R, g.S, g.C), dy.dtype(), dy.device());
  backend(dy).conv2d_backward_filter(dy, x, g, dw);
  return dw;
}

namespace {

void check_channel_param(const Tensor& p, int64_t channels, const Tensor& x, const char* what) {
  REMIX_CHECK(p.defined() && p.shape() == Shape{channels},
              "batch_norm: {} must have shape [{}], got {}", what, channels,
              p.defined() ? to_string(p.shape()) : "undefined");
  check_dtype(p, DType::f32, what);
  check_same_device(p, x, "batch_norm");
}

int64_t check_batch_norm_input(const Tensor& x, const Tensor& z, const Tensor& gamma,
                               const Tensor& beta) {
  check_activation(x, "batch_norm");
  REMIX_CHECK(x.dim() >= 2, "batch_norm: expected N x ... x C, got {}", to_string(x.shape()));
  const int64_t channels = x.shape().back();
  check_channel_param(gamma, channels, x, "weight (gamma)");
  check_channel_param(beta, channels, x, "bias (beta)");
  if (z.defined()) {
    check_same_shape(x, z, "batch_norm residual");
    REMIX_CHECK(z.dtype() == x.dtype(), "batch_norm: residual dtype {} differs from input {}",
                dtype_name(z.dtype()), dtype_name(x.dtype()));
  }
  return channels;
}

}  // namespace

BatchNormOutputs batch_norm_training(const Tensor& x, const Tensor& z, const Tensor& gamma,
                                     const Tensor& beta, Tensor& running_mean,
                                     Tensor& running_var, BatchNormActivation activation,
                                     double momentum, double eps) {
  const profile::Scope timed(profile::Kind::batch_norm);
  const int64_t channels = check_batch_norm_input(x, z, gamma, beta);
  check_channel_param(running_mean, channels, x, "running_mean");
  check_channel_param(running_var, channels, x, "running_var");
  REMIX_CHECK(x.numel() / channels > 1,
              "batch_norm: training needs more than one value per channel, got input {}",
              to_string(x.shape()));
  BatchNormOutputs out{Tensor(x.shape(), x.dtype(), x.device()),
                       Tensor({channels}, DType::f32, x.device()),
                       Tensor({channels}, DType::f32, x.device())};
  BatchNormForward args;
  args.x = &x, args.z = z.defined() ? &z : nullptr, args.gamma = &gamma, args.beta = &beta;
  args.running_mean = &running_mean, args.running_var = &running_var;
  args.activation = activation, args.momentum = momentum, args.eps = eps;
  args.y = &out.y, args.save_mean = &out.save_mean, args.save_invstd = &out.save_invstd;
  backend(x).batch_norm_forward_training(args);
  return out;
}

Tensor batch_norm_inference(const Tensor& x, const Tensor& z, const Tensor& gamma,
                            const Tensor& beta, const Tensor& running_mean,
                            const Tensor& running_var, BatchNormActivation activation,
                            double eps) {
  const profile::Scope timed(profile::Kind::batch_norm);
  const int64_t channels = check_batch_norm_input(x, z, gamma, beta);
  check_channel_param(running_mean, channels, x, "running_mean");
  check_channel_param(running_var, channels, x, "running_var");
  Tensor y(x.shape(), x.dtype(), x.device());
  BatchNormForward args;
  args.x = &x, args.z = z.defined() ? &z : nullptr, args.gamma = &gamma, args.beta = &beta;
  // The inference kernel only reads the running statistics.
  args.running_mean = const_cast<Tensor*>(&running_mean);
  args.running_var = const_cast<Tensor*>(&running_var);
  args.activation = activation, args.eps = eps, args.y = &y;
  backend(x).batch_norm_forward_inference(args);
  return y;
}

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                                   const Tensor& gamma, const Tensor& beta,
                                   const Tensor& save_mean, const Tensor& save_invstd,
                                   BatchNormActivation activation, bool has_residual, double eps) {
  const profile::Scope timed(profile::Kind::batch_norm);
  const int64_t channels = check_batch_norm_input(x, Tensor(), gamma, beta);
  check_same_shape(dy, x, "batch_norm_backward");
  check_channel_param(save_mean, channels, x, "save_mean");
  check_channel_param(save_invstd, channels, x, "save_invstd");
  if (activation != BatchNormActivation::none) check_same_shape(y, x, "batch_norm_backward y");
  BatchNormGrads g{Tensor(x.shape(), x.dtype(), x.device()),
                   has_residual ? Tensor(x.shape(), x.dtype(), x.device()) : Tensor(),
                   Tensor({channels}, DType::f32, x.device()),
                   Tensor({channels}, DType::f32, x.device())};
  BatchNormBackward args;
  args.dy = &dy, args.x = &x, args.y = y.defined() ? &y : nullptr, args.gamma = &gamma;
  args.beta = &beta, args.save_mean = &save_mean, args.save_invstd = &save_invstd;
  args.activation = activation, args.eps = eps;
  args.dx = &g.dx, args.dz = has_residual ? &g.dz : nullptr, args.dgamma = &g.dgamma;
  args.dbeta = &g.dbeta;
  backend(x).batch_norm_backward(args);
  return g;
}

Tensor max_pool2d_forward(const Tensor& x, const PoolGeometry& g) {
  const profile::Scope timed(profile::Kind::pooling);
  check_activation(x, "max_pool2d");
  REMIX_CHECK(x.shape() == nhwc(g.N, g.H, g.W, g.C), "max_pool2d: input {} does not match",
              to_string(x.shape()));
  Tensor y(nhwc(g.N, g.P, g.Q, g.C), x.dtype(), x.device());
  backend(x).max_pool2d_forward(x, g, y);
  return y;
}

Tensor max_pool2d_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                           const PoolGeometry& g) {
  const profile::Scope timed(profile::Kind::pooling);
  REMIX_CHECK(dy.shape() == nhwc(g.N, g.P, g.Q, g.C) && y.shape() == dy.shape(),
              "max_pool2d_backward: dy {} does not match the geometry", to_string(dy.shape()));
  Tensor dx(x.shape(), dy.dtype(), dy.device());
  backend(x).max_pool2d_backward(dy, x, y, g, dx);
  return dx;
}

Tensor avg_pool2d_forward(const Tensor& x, const PoolGeometry& g) {
  const profile::Scope timed(profile::Kind::pooling);
  check_activation(x, "avg_pool2d");
  REMIX_CHECK(x.shape() == nhwc(g.N, g.H, g.W, g.C), "avg_pool2d: input {} does not match",
              to_string(x.shape()));
  Tensor y(nhwc(g.N, g.P, g.Q, g.C), x.dtype(), x.device());
  backend(x).avg_pool2d_forward(x, g, y);
  return y;
}

Tensor avg_pool2d_backward(const Tensor& dy, const PoolGeometry& g) {
  const profile::Scope timed(profile::Kind::pooling);
  REMIX_CHECK(dy.shape() == nhwc(g.N, g.P, g.Q, g.C),
              "avg_pool2d_backward: dy {} does not match the geometry", to_string(dy.shape()));
  Tensor dx(nhwc(g.N, g.H, g.W, g.C), dy.dtype(), dy.device());
  backend(dy).avg_pool2d_backward(dy, g, dx);
  return dx;
}

namespace {

void check_roi(const Tensor& features, const Tensor& boxes, const RoiAlignParams& p) {
  REMIX_CHECK(features.dim() == 4, "roi_align: features must be N x H x W x C, got {}",
              to_string(features.shape()));
  check_dtype(boxes, DType::f32, "roi_align boxes");
  check_same_device(features, boxes, "roi_align");
  REMIX_CHECK(boxes.shape() == Shape({features.size(0), 4}),
              "roi_align: expected one box (x1, y1, x2, y2) per image, shape [{}, 4], got {}",
              features.size(0), to_string(boxes.shape()));
  REMIX_CHECK(p.out_h > 0 && p.out_w > 0 && p.spatial_scale > 0,
              "roi_align: output size and spatial scale must be positive");
}

}  // namespace

Tensor roi_align_forward(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p) {
  const profile::Scope timed(profile::Kind::augmentation);
  check_activation(x, "roi_align");
  check_roi(x, boxes, p);
  Tensor y(nhwc(x.size(0), p.out_h, p.out_w, x.size(3)), x.dtype(), x.device());
  backend(x).roi_align_forward(x, boxes, p, y);
  return y;
}

Tensor roi_align_backward(const Tensor& dy, const Tensor& boxes, const RoiAlignParams& p,
                          const Shape& x_shape) {
  const profile::Scope timed(profile::Kind::augmentation);
  Tensor dx(x_shape, dy.dtype(), dy.device());
  check_roi(dx, boxes, p);
  REMIX_CHECK(dy.shape() == nhwc(x_shape[0], p.out_h, p.out_w, x_shape[3]),
              "roi_align_backward: dy {} does not match the output size", to_string(dy.shape()));
  backend(dy).roi_align_backward(dy, boxes, p, dx);
  return dx;
}

Tensor log_softmax_forward(const Tensor& x) {
  const profile::Scope timed(profile::Kind::loss);
  check_activation(x, "log_softmax");
  REMIX_CHECK(x.dim() >= 1 && x.shape().back() > 0, "log_softmax: empty last axis in {}",
              to_string(x.shape()));
  Tensor y(x.shape(), x.dtype(), x.device());
  backend(x).log_softmax_forward(x, y);
  return y;
}

Tensor log_softmax_backward(const Tensor& dy, const Tensor& y) {
  const profile::Scope timed(profile::Kind::loss);
  check_same_shape(dy, y, "log_softmax_backward");
  Tensor dx(y.shape(), y.dtype(), y.device());
  backend(y).log_softmax_backward(dy, y, dx);
  return dx;
}

namespace {

void check_logits_targets(const Tensor& logits, const Tensor& targets) {
  REMIX_CHECK(logits.dim() == 2 && logits.size(1) > 0,
              "cross_entropy: logits must be N x K (K > 0), got {}", to_string(logits.shape()));
  check_dtype(logits, DType::f32, "cross_entropy logits (cast them to f32 first)");
  check_dtype(targets, DType::f32, "cross_entropy targets");
  check_same_shape(logits, targets, "cross_entropy logits/targets");
  check_same_device(logits, targets, "cross_entropy");
}

}  // namespace

Tensor cross_entropy_forward(const Tensor& logits, const Tensor& targets) {
  const profile::Scope timed(profile::Kind::loss);
  check_logits_targets(logits, targets);
  Tensor loss({logits.size(0)}, DType::f32, logits.device());
  backend(logits).cross_entropy_forward(logits, targets, loss);
  return loss;
}

Tensor cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets) {
  const profile::Scope timed(profile::Kind::loss);
  check_logits_targets(logits, targets);
  REMIX_CHECK(dloss.shape() == Shape{logits.size(0)}, "cross_entropy_backward: dloss is {}",
              to_string(dloss.shape()));
  Tensor dlogits(logits.shape(), DType::f32, logits.device());
  backend(logits).cross_entropy_backward(dloss, logits, targets, dlogits);
  return dlogits;
}

Tensor one_hot(const Tensor& labels, int64_t num_classes, double smoothing) {
  const profile::Scope timed(profile::Kind::loss);
  check_dtype(labels, DType::i32, "one_hot labels");
  REMIX_CHECK(labels.dim() == 1, "one_hot: labels must be 1-d, got {}",
              to_string(labels.shape()));
  REMIX_CHECK(num_classes > 0, "one_hot: num_classes must be positive, got {}", num_classes);
  REMIX_CHECK(smoothing >= 0 && smoothing < 1, "label smoothing must be in [0, 1), got {}",
              smoothing);
  if (labels.device().is_cpu()) {  // the host can check the range without a device sync
    for (int32_t label : labels.to_vector<int32_t>())
      REMIX_CHECK(label >= 0 && label < num_classes, "label {} is outside [0, {})", label,
                  num_classes);
  }
  const double off = smoothing / static_cast<double>(num_classes);
  Tensor out({labels.size(0), num_classes}, DType::f32, labels.device());
  backend(labels).one_hot(labels, 1.0 - smoothing + off, off, out);
  return out;
}

}  // namespace remix::prim
