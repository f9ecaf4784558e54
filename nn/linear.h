// Linear: y = x @ weight^T + bias, with weight out x in (PyTorch's layout) and bias of out.
// x is N x in. Initialised as PyTorch's nn.Linear: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
#pragma once

#include "nn/module.h"
#include "tensor/random.h"

namespace remix::nn {

struct LinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
};

class Linear : public Layer {
 public:
  Linear(const LinearOptions& options, Generator& gen);

  // Computes in x's dtype: the f32 weight and bias are cast to it (gradients arrive in f32).
  Tensor forward(const Tensor& x) override;
  // 2 * in FLOPs (one multiply-add = 2) for each of the out outputs of an image.
  int64_t forward_flops(const Shape& output_shape) const override;

  const LinearOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }  // undefined without a bias

 private:
  LinearOptions options_;
  Tensor weight_, bias_;
};

}  // namespace remix::nn
