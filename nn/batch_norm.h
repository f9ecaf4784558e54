// BatchNorm2d: batch normalisation over N, H, W for each channel of NHWC activations (or over N
// for N x C inputs), as torch.nn.BatchNorm2d:
//   training:  y = weight * (x - mean_batch) / sqrt(var_batch + eps) + bias, with the biased batch
//              variance, and running_mean/var <- (1 - momentum) * running + momentum * batch
//              (running_var takes the unbiased batch variance); num_batches_tracked += 1.
//   eval:      the same with running_mean and running_var.
// The forward can fuse a residual add and a ReLU: y = relu(bn(x) + residual), the pattern that
// ends a ResNet block. Statistics and the affine weight/bias stay f32; y has x's dtype.
#pragma once

#include "nn/module.h"
#include "tensor/backend.h"

namespace remix::nn {

struct BatchNorm2dOptions {
  int64_t channels = 0;
  double momentum = 0.1;
  double eps = 1e-5;
};

class BatchNorm2d : public Layer {
 public:
  explicit BatchNorm2d(const BatchNorm2dOptions& options);

  Tensor forward(const Tensor& x) override;
  // y = activation(bn(x) + residual); `residual` may be undefined (no add).
  Tensor forward(const Tensor& x, BatchNormActivation activation,
                 const Tensor& residual = Tensor());

  const BatchNorm2dOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }
  Tensor& running_mean() { return running_mean_; }
  Tensor& running_var() { return running_var_; }
  int64_t num_batches_tracked() const { return num_batches_tracked_; }

 private:
  BatchNorm2dOptions options_;
  Tensor weight_, bias_, running_mean_, running_var_;
  int64_t num_batches_tracked_ = 0;
};

}  // namespace remix::nn
