// Differentiable operations that move values without arithmetic: reshape (and flatten), cast,
// broadcast_to, and the channel operations of NHWC tensors (slice, concatenate, zero-pad over the
// last axis). Each backward moves the gradient back the opposite way.
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct ReshapeBackward : Node {
  Shape x_shape;
  std::string name() const override { return "ReshapeBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {dy.reshape(x_shape)}; }
};

struct CastBackward : Node {
  DType x_dtype = DType::f32;
  std::string name() const override { return "CastBackward"; }
  // The gradient of a dtype conversion is the gradient, converted back.
  std::vector<Tensor> backward(const Tensor& dy) override { return {prim::cast(dy, x_dtype)}; }
};

struct BroadcastBackward : Node {
  Shape x_shape;
  std::string name() const override { return "BroadcastBackward"; }
  // Each input element was copied to several outputs: their gradients add up.
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {prim::sum_to_shape(dy, x_shape)};
  }
};

// Zeros with the shape, dtype and device of `like`, except for `channels` channels.
Tensor zero_channels(const Tensor& like, int64_t channels) {
  Shape shape = like.shape();
  shape.back() = channels;
  return Tensor::zeros(shape, like.dtype(), like.device());
}

struct SliceChannelsBackward : Node {
  int64_t start = 0, x_channels = 0;
  std::string name() const override { return "SliceChannelsBackward"; }
  // dx is dy in channels [start, start + count) and zero in the channels the slice dropped.
  std::vector<Tensor> backward(const Tensor& dy) override {
    const int64_t after = x_channels - start - dy.shape().back();
    std::vector<Tensor> parts;
    if (start > 0) parts.push_back(zero_channels(dy, start));
    parts.push_back(dy);
    if (after > 0) parts.push_back(zero_channels(dy, after));
    return {parts.size() == 1 ? dy : prim::concat_channels(parts)};
  }
};

struct ConcatChannelsBackward : Node {
  std::vector<int64_t> channels;  // of each part, in order
  std::string name() const override { return "ConcatChannelsBackward"; }
  // Each part's gradient is its own range of channels of dy.
  std::vector<Tensor> backward(const Tensor& dy) override {
    std::vector<Tensor> dparts;
    int64_t start = 0;
    for (size_t i = 0; i < channels.size(); ++i) {
      dparts.push_back(needs_input_grad(i) ? prim::slice_channels(dy, start, channels[i])
                                           : Tensor());
      start += channels[i];
    }
    return dparts;
  }
};

struct PadChannelsBackward : Node {
  int64_t x_channels = 0;
  std::string name() const override { return "PadChannelsBackward"; }
  // The appended zero channels are constants: dx is the first x_channels channels of dy.
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {prim::slice_channels(dy, 0, x_channels)};
  }
};

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.reshape(shape);  // a view: same memory, and a handle of its own for the history
  if (auto node = make_node<ReshapeBackward>({&x})) {
    node->x_shape = x.shape();
    set_history(y, node);
  }
  return y;
}

Tensor flatten(const Tensor& x, int64_t start_axis) {
  const int axis = normalize_axis(start_axis, x.dim());
  Shape shape(x.shape().begin(), x.shape().begin() + axis);
  shape.push_back(numel(Shape(x.shape().begin() + axis, x.shape().end())));
  return reshape(x, shape);
}

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;  // nothing to convert (as PyTorch's .to returns self)
  Tensor y = prim::cast(x, dtype);
  if (!is_floating(dtype)) return y;  // integers carry no gradient (as in PyTorch)
  if (auto node = make_node<CastBackward>({&x})) {
    node->x_dtype = x.dtype();
    set_history(y, node);
  }
  return y;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  Tensor y = prim::broadcast_to(x, shape);
  if (auto node = make_node<BroadcastBackward>({&x})) {
    node->x_shape = x.shape();
    set_history(y, node);
  }
  return y;
}

Tensor slice_channels(const Tensor& x, int64_t start, int64_t count) {
  Tensor y = prim::slice_channels(x, start, count);
  if (auto node = make_node<SliceChannelsBackward>({&x})) {
    node->start = start, node->x_channels = x.shape().back();
    set_history(y, node);
  }
  return y;
}

Tensor concat_channels(const std::vector<Tensor>& parts) {
  Tensor y = prim::concat_channels(parts);
  std::vector<const Tensor*> inputs;
  for (const Tensor& p : parts) inputs.push_back(&p);
  if (auto node = make_node<ConcatChannelsBackward>(inputs)) {
    for (const Tensor& p : parts) node->channels.push_back(p.shape().back());
    set_history(y, node);
  }
  return y;
}

Tensor pad_channels(const Tensor& x, int64_t channels) {
  Tensor y = prim::pad_channels(x, channels);
  if (auto node = make_node<PadChannelsBackward>({&x})) {
    node->x_channels = x.shape().back();
    set_history(y, node);
  }
  return y;
}

}  // namespace remix
