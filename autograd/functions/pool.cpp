// Differentiable pooling over NHWC inputs: max and average with square windows (PyTorch's output
// size rules, ceil_mode included), and global average pooling (a mean over H and W).
//
// Max pooling sends each output's gradient to the input element that was its maximum; average
// pooling spreads it evenly over the window (divided by the window size clipped to the padded
// input, as the forward did).
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct MaxPool2dBackward : Node {
  Tensor x, y;  // the backward finds each window's maximum by comparing x with y
  PoolGeometry geometry;
  std::string name() const override { return "MaxPool2dBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {prim::max_pool2d_backward(dy, x, y, geometry)};
  }
  void release_saved() override { x = y = Tensor(); }
};

struct AvgPool2dBackward : Node {
  PoolGeometry geometry;
  std::string name() const override { return "AvgPool2dBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {prim::avg_pool2d_backward(dy, geometry)};
  }
};

PoolGeometry square_pool(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                         bool ceil_mode) {
  return make_pool_geometry(x.shape(), kernel, kernel, stride, stride, padding, padding,
                            ceil_mode);
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                  bool ceil_mode) {
  const PoolGeometry g = square_pool(x, kernel, stride, padding, ceil_mode);
  Tensor y = prim::max_pool2d_forward(x, g);
  if (auto node = make_node<MaxPool2dBackward>({&x})) {
    node->x = x, node->y = detach(y);  // detached: the node must not own y's history (a cycle)
    node->geometry = g;
    set_history(y, node);
  }
  return y;
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                  bool ceil_mode) {
  const PoolGeometry g = square_pool(x, kernel, stride, padding, ceil_mode);
  Tensor y = prim::avg_pool2d_forward(x, g);
  if (auto node = make_node<AvgPool2dBackward>({&x})) {
    node->geometry = g;
    set_history(y, node);
  }
  return y;
}

Tensor global_avg_pool(const Tensor& x) {
  REMIX_CHECK(x.dim() == 4, "global_avg_pool: expected N x H x W x C, got {}",
              to_string(x.shape()));
  return mean(x, {1, 2});
}

}  // namespace remix
