// Linear layer: a matmul with the transposed weight plus a broadcast bias (both differentiable
// ops from autograd/ops.h, so no hand-written gradient).
#include "nn/linear.h"

#include "autograd/ops.h"
#include "nn/init.h"

namespace remix::nn {

Linear::Linear(const LinearOptions& options, Generator& gen) : Layer("Linear"), options_(options) {
  REMIX_CHECK(options_.in_features > 0 && options_.out_features > 0,
              "Linear: expected positive feature counts, got in {} out {}", options_.in_features,
              options_.out_features);
  weight_ = Tensor::empty({options_.out_features, options_.in_features});
  if (options_.bias) bias_ = Tensor::empty({options_.out_features});
  init::linear_default(weight_, bias_, gen);
  register_parameter("weight", &weight_);
  if (options_.bias) register_parameter("bias", &bias_);
}

Tensor Linear::forward(const Tensor& x) {
  REMIX_CHECK(x.dim() == 2 && x.size(1) == options_.in_features,
              "Linear: expected an N x {} input, got {}", options_.in_features,
              to_string(x.shape()));
  Tensor y = matmul(x, cast(weight_, x.dtype()), false, true);
  if (bias_.defined()) y = add(y, cast(bias_, x.dtype()));
  return traced(y);
}

int64_t Linear::forward_flops(const Shape& output_shape) const {
  return 2 * options_.in_features * options_.out_features;
}

}  // namespace remix::nn
