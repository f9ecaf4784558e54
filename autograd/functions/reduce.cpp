// Differentiable reductions. sum and max record a node; mean is sum times 1/n.
//
// The backward of a reduction spreads the gradient of each output element back over the input
// elements it was reduced from: dy is first given the input's rank (the reduced axes kept with
// size 1), then broadcast.
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct Reduction {
  std::vector<int> axes;  // sorted, non-negative
  Shape kept_shape;       // the output shape with the reduced axes kept as size 1
};

Reduction describe(const Tensor& x, const std::vector<int64_t>& axes) {
  Reduction r;
  r.axes = normalize_axes(axes, x.dim());
  r.kept_shape = reduced_shape(x.shape(), r.axes, /*keepdim=*/true);
  return r;
}

struct SumBackward : Node {
  Shape x_shape, kept_shape;
  std::string name() const override { return "SumBackward"; }
  // Every input element contributes once to its sum: dx = dy broadcast back.
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {prim::broadcast_to(dy.reshape(kept_shape), x_shape)};
  }
};

struct MaxBackward : Node {
  Tensor x, y_kept;  // y with the reduced axes kept as size 1
  std::vector<int64_t> axes;
  std::string name() const override { return "MaxBackward"; }
  // dx = dy / (number of maxima) at every element equal to its maximum, 0 elsewhere.
  std::vector<Tensor> backward(const Tensor& dy) override {
    const Tensor is_max = prim::binary(BinaryOp::equal, x, y_kept);
    const Tensor ties = prim::reduce(ReduceOp::sum, is_max, axes, /*keepdim=*/true);
    const Tensor share = prim::binary(BinaryOp::div, dy.reshape(y_kept.shape()), ties);
    return {prim::binary(BinaryOp::mul, is_max, share)};
  }
  void release_saved() override { x = y_kept = Tensor(); }
};

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  Tensor y = prim::reduce(ReduceOp::sum, x, axes, keepdim);
  if (auto node = make_node<SumBackward>({&x})) {
    node->x_shape = x.shape();
    node->kept_shape = describe(x, axes).kept_shape;
    set_history(y, node);
  }
  return y;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  int64_t count = 1;
  for (int axis : describe(x, axes).axes) count *= x.shape()[axis];
  return mul(sum(x, axes, keepdim), 1.0 / static_cast<double>(count));
}

Tensor max(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  Tensor y = prim::reduce(ReduceOp::max, x, axes, keepdim);
  if (auto node = make_node<MaxBackward>({&x})) {
    const Reduction r = describe(x, axes);
    node->x = x;
    node->y_kept = y.reshape(r.kept_shape);  // a new handle without y's history (no cycle)
    node->axes.assign(r.axes.begin(), r.axes.end());
    set_history(y, node);
  }
  return y;
}

Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  return prim::argmax(x, axis, keepdim);
}

}  // namespace remix
