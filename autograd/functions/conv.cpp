// Differentiable 2-D convolution over NHWC inputs with KRSC weights (cross-correlation, as in
// every framework), the same stride and zero padding on both spatial axes.
//
// For y = conv(x, w):  dx = conv2d_backward_data(dy, w)  (a transposed convolution of dy)
//                      dw = conv2d_backward_filter(dy, x) (dy correlated with the input)
// The bias is added afterwards with a broadcasting add, whose node gives its gradient (dy summed
// over N, P, Q).
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct Conv2dBackward : Node {
  Tensor x, weight;  // x is kept only when the weight needs a gradient, and the other way round
  Conv2dGeometry geometry;
  std::string name() const override { return "Conv2dBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {needs_input_grad(0) ? prim::conv2d_backward_data(dy, weight, geometry) : Tensor(),
            needs_input_grad(1) ? prim::conv2d_backward_filter(dy, x, geometry) : Tensor()};
  }
  void release_saved() override { x = weight = Tensor(); }
};

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding) {
  const Conv2dGeometry g =
      make_conv2d_geometry(x.shape(), weight.shape(), stride, stride, padding, padding);
  if (bias.defined()) {
    REMIX_CHECK(bias.shape() == Shape{g.K}, "conv2d: the bias must have shape [{}] (one per "
                "output channel), got {}", g.K, to_string(bias.shape()));
  }
  Tensor y = prim::conv2d_forward(x, weight, g);
  if (auto node = make_node<Conv2dBackward>({&x, &weight})) {
    if (node->needs_input_grad(0)) node->weight = weight;
    if (node->needs_input_grad(1)) node->x = x;
    node->geometry = g;
    set_history(y, node);
  }
  return bias.defined() ? add(y, bias) : y;
}

}  // namespace remix
