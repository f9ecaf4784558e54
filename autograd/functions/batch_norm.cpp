// Differentiable batch normalisation over N, H, W for each channel of an NHWC (or N x C) input,
// optionally fused with a residual add and a ReLU:
//   y = act(gamma * xhat + beta + residual),  xhat = (x - mean) * invstd.
// Inputs, in the order the nodes give their gradients: x, gamma, beta, residual.
//
// Training normalises with the batch statistics (and updates the running ones in place); since
// mean and invstd then depend on every x, its backward is the batch_norm_backward primitive.
// Inference normalises with the running statistics, which are constants, so the backward is
// elementwise:  dx = dy' * gamma * invstd,  dgamma = sum(dy' * xhat),  dbeta = sum(dy'),
// dresidual = dy', where dy' is dy masked by the ReLU (dy where y > 0) when there is one.
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct BatchNormTrainingBackward : Node {
  Tensor x, y, gamma, beta, save_mean, save_invstd;  // y only with the ReLU (it masks dy)
  BatchNormActivation activation = BatchNormActivation::none;
  double eps = 1e-5;
  std::string name() const override { return "BatchNormTrainingBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    const bool needs_dresidual = needs_input_grad(3);
    prim::BatchNormGrads g = prim::batch_norm_backward(dy, x, y, gamma, beta, save_mean,
                                                       save_invstd, activation, needs_dresidual,
                                                       eps);
    return {needs_input_grad(0) ? g.dx : Tensor(), needs_input_grad(1) ? g.dgamma : Tensor(),
            needs_input_grad(2) ? g.dbeta : Tensor(), needs_dresidual ? g.dz : Tensor()};
  }
  void release_saved() override { x = y = gamma = beta = save_mean = save_invstd = Tensor(); }
};

struct BatchNormInferenceBackward : Node {
  Tensor x, y, gamma;   // y only with the ReLU
  Tensor mean, invstd;  // of the running statistics when the forward ran (f32, C)
  BatchNormActivation activation = BatchNormActivation::none;
  std::string name() const override { return "BatchNormInferenceBackward"; }

  std::vector<Tensor> backward(const Tensor& dy) override {
    const Tensor dy_masked =
        activation == BatchNormActivation::relu ? prim::relu_backward(dy, y) : dy;
    std::vector<int64_t> all_but_channels;
    for (int64_t axis = 0; axis + 1 < dy.dim(); ++axis) all_but_channels.push_back(axis);
    // Statistics, gamma and beta are f32 whatever the dtype of x: reduce in f32.
    const Tensor dy_f32 = prim::cast(dy_masked, DType::f32);
    Tensor dx, dgamma, dbeta;
    if (needs_input_grad(0)) {
      const Tensor scale = prim::binary(BinaryOp::mul, gamma, invstd);
      dx = prim::binary(BinaryOp::mul, dy_masked, prim::cast(scale, dy.dtype()));
    }
    if (needs_input_grad(1)) {
      const Tensor centred = prim::binary(BinaryOp::sub, prim::cast(x, DType::f32), mean);
      const Tensor xhat = prim::binary(BinaryOp::mul, centred, invstd);
      dgamma = prim::reduce(ReduceOp::sum, prim::binary(BinaryOp::mul, dy_f32, xhat),
                            all_but_channels, /*keepdim=*/false);
    }
    if (needs_input_grad(2))
      dbeta = prim::reduce(ReduceOp::sum, dy_f32, all_but_channels, /*keepdim=*/false);
    return {dx, dgamma, dbeta, needs_input_grad(3) ? dy_masked : Tensor()};
  }
  void release_saved() override { x = y = gamma = mean = invstd = Tensor(); }
};

Tensor batch_norm_training(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                           Tensor& running_mean, Tensor& running_var, double momentum, double eps,
                           BatchNormActivation activation, const Tensor& residual) {
  prim::BatchNormOutputs out = prim::batch_norm_training(
      x, residual, gamma, beta, running_mean, running_var, activation, momentum, eps);
  if (auto node = make_node<BatchNormTrainingBackward>({&x, &gamma, &beta, &residual})) {
    node->x = x, node->gamma = gamma, node->beta = beta;
    node->save_mean = out.save_mean, node->save_invstd = out.save_invstd;
    // Detached: the node must not own the history of its own output (a cycle never freed).
    if (activation == BatchNormActivation::relu) node->y = detach(out.y);
    node->activation = activation, node->eps = eps;
    set_history(out.y, node);
  }
  return out.y;
}

Tensor batch_norm_inference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                            const Tensor& running_mean, const Tensor& running_var, double eps,
                            BatchNormActivation activation, const Tensor& residual) {
  Tensor y = prim::batch_norm_inference(x, residual, gamma, beta, running_mean, running_var,
                                        activation, eps);
  if (auto node = make_node<BatchNormInferenceBackward>({&x, &gamma, &beta, &residual})) {
    if (node->needs_input_grad(1)) node->x = x;
    node->gamma = gamma;
    // Copies: a later training step updates the running statistics in place.
    node->mean = running_mean.clone();
    node->invstd = prim::unary(UnaryOp::rsqrt, prim::binary_scalar(BinaryOp::add, running_var, eps));
    if (activation == BatchNormActivation::relu) node->y = detach(y);
    node->activation = activation;
    set_history(y, node);
  }
  return y;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum, double eps,
                  BatchNormActivation activation, const Tensor& residual) {
  if (training) {
    return batch_norm_training(x, gamma, beta, running_mean, running_var, momentum, eps,
                               activation, residual);
  }
  return batch_norm_inference(x, gamma, beta, running_mean, running_var, eps, activation,
                              residual);
}

}  // namespace remix
