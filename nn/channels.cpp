// Channel padding and concatenation layers (arithmetic in autograd/functions/shape.cpp).
#include "nn/channels.h"

#include "autograd/ops.h"

namespace remix::nn {

ChannelPad::ChannelPad(int64_t channels) : Layer("ChannelPad"), channels_(channels) {
  REMIX_CHECK(channels > 0, "ChannelPad: expected a positive width, got {}", channels);
}

Tensor ChannelPad::forward(const Tensor& x) {
  REMIX_CHECK(x.dim() >= 1 && x.size(-1) <= channels_,
              "ChannelPad: cannot pad {} to {} channels (padding only adds channels)",
              to_string(x.shape()), channels_);
  if (x.size(-1) == channels_) return traced(x);
  return traced(pad_channels(x, channels_));
}

Tensor ConcatChannels::forward(const std::vector<Tensor>& parts) {
  REMIX_CHECK(!parts.empty(), "ConcatChannels: nothing to concatenate");
  if (parts.size() == 1) return traced(parts[0]);
  return traced(concat_channels(parts));
}

}  // namespace remix::nn
