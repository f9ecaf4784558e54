// BatchNorm2d: the layer around remix::batch_norm (autograd/functions/batch_norm.cpp), which
// holds the formulas and the fused residual/ReLU paths.
#include "nn/batch_norm.h"

#include "autograd/ops.h"

namespace remix::nn {

BatchNorm2d::BatchNorm2d(const BatchNorm2dOptions& options)
    : Layer("BatchNorm2d"), options_(options) {
  const int64_t c = options_.channels;
  REMIX_CHECK(c > 0, "BatchNorm2d: expected a positive channel count, got {}", c);
  REMIX_CHECK(options_.momentum >= 0 && options_.momentum <= 1 && options_.eps > 0,
              "BatchNorm2d: expected 0 <= momentum <= 1 and eps > 0, got {} and {}",
              options_.momentum, options_.eps);
  weight_ = Tensor::ones({c});
  bias_ = Tensor::zeros({c});
  running_mean_ = Tensor::zeros({c});
  running_var_ = Tensor::ones({c});
  register_parameter("weight", &weight_);
  register_parameter("bias", &bias_);
  register_buffer("running_mean", &running_mean_);
  register_buffer("running_var", &running_var_);
  register_counter("num_batches_tracked", &num_batches_tracked_);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  return forward(x, BatchNormActivation::none);
}

Tensor BatchNorm2d::forward(const Tensor& x, BatchNormActivation activation,
                            const Tensor& residual) {
  REMIX_CHECK((x.dim() == 4 || x.dim() == 2) && x.size(-1) == options_.channels,
              "BatchNorm2d: expected an N x H x W x {0} (or N x {0}) input, got {1}",
              options_.channels, to_string(x.shape()));
  if (is_training()) ++num_batches_tracked_;
  return traced(batch_norm(x, weight_, bias_, running_mean_, running_var_, is_training(),
                           options_.momentum, options_.eps, activation, residual));
}

}  // namespace remix::nn
