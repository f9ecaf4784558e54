// Differentiable ROI-Align (torchvision.ops.roi_align semantics) on NHWC features, one box per
// image. Each output value is an average of bilinear samples of the features, so the backward
// scatters dy back to the four neighbours of every sample with the same bilinear weights. The
// boxes are coordinates, not learned: they receive no gradient.
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct RoiAlignBackward : Node {
  Tensor boxes;
  RoiAlignParams params;
  Shape x_shape;
  std::string name() const override { return "RoiAlignBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {prim::roi_align_backward(dy, boxes, params, x_shape)};
  }
  void release_saved() override { boxes = Tensor(); }
};

}  // namespace

Tensor roi_align(const Tensor& x, const Tensor& boxes, const RoiAlignParams& params) {
  Tensor y = prim::roi_align_forward(x, boxes, params);
  if (auto node = make_node<RoiAlignBackward>({&x})) {
    node->boxes = boxes, node->params = params, node->x_shape = x.shape();
    set_history(y, node);
  }
  return y;
}

}  // namespace remix
