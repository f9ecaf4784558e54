// Conv2d: a 2-D convolution layer over NHWC activations with a K x R x S x C weight (KRSC:
// out channels, kernel rows, kernel columns, in channels) and an optional bias of K.
// Initialised with Kaiming normal (fan-out) as torchvision's ResNets; the bias starts at 0.
#pragma once

#include "nn/module.h"
#include "tensor/random.h"

namespace remix::nn {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 3;
  int64_t stride = 1;
  int64_t padding = 0;
  bool bias = false;
};

class Conv2d : public Layer {
 public:
  Conv2d(const Conv2dOptions& options, Generator& gen);

  // x: N x H x W x C in f32, f16 or bf16; computes in x's dtype (the f32 weight is cast to it,
  // and its gradient arrives back in f32). Returns N x P x Q x K.
  Tensor forward(const Tensor& x) override;
  // 2 * R * S * C FLOPs (one multiply-add = 2) for each of the P * Q * K outputs of an image.
  int64_t forward_flops(const Shape& output_shape) const override;

  const Conv2dOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }  // undefined without a bias

 private:
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

}  // namespace remix::nn
