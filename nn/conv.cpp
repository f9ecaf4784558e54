// Conv2d: the convolution layer (the arithmetic is remix::conv2d in autograd/functions/conv.cpp).
#include "nn/conv.h"

#include "autograd/ops.h"
#include "nn/init.h"

namespace remix::nn {

Conv2d::Conv2d(const Conv2dOptions& options, Generator& gen) : Layer("Conv2d"), options_(options) {
  const auto& o = options_;
  REMIX_CHECK(o.in_channels > 0 && o.out_channels > 0 && o.kernel_size > 0 && o.stride > 0 &&
                  o.padding >= 0,
              "Conv2d: expected positive channels, kernel size and stride and padding >= 0, got "
              "in {} out {} kernel {} stride {} padding {}",
              o.in_channels, o.out_channels, o.kernel_size, o.stride, o.padding);
  weight_ = Tensor::empty({o.out_channels, o.kernel_size, o.kernel_size, o.in_channels});
  init::kaiming_normal_fan_out(weight_, gen);
  register_parameter("weight", &weight_);
  if (o.bias) {
    bias_ = Tensor::zeros({o.out_channels});
    register_parameter("bias", &bias_);
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  REMIX_CHECK(x.dim() == 4 && x.size(3) == options_.in_channels,
              "Conv2d: expected an N x H x W x {} input, got {}", options_.in_channels,
              to_string(x.shape()));
  const Tensor w = cast(weight_, x.dtype());
  const Tensor b = bias_.defined() ? cast(bias_, x.dtype()) : Tensor();
  return traced(conv2d(x, w, b, options_.stride, options_.padding));
}

int64_t Conv2d::forward_flops(const Shape& output_shape) const {
  const int64_t outputs_per_image = output_shape[1] * output_shape[2] * output_shape[3];
  const int64_t k = options_.kernel_size;
  return 2 * outputs_per_image * k * k * options_.in_channels;
}

}  // namespace remix::nn
