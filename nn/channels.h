// Channel-axis layers for NHWC activations (the channel axis is the last one):
//   ChannelPad      appends zero channels up to a width: N x H x W x C -> N x H x W x channels
//                   (the parameter-free shortcut of PyramidNet and of He et al.'s CIFAR ResNets).
//   ConcatChannels  joins tensors along the channel axis (DenseNet's dense connectivity).
#pragma once

#include <vector>

#include "nn/module.h"

namespace remix::nn {

class ChannelPad : public Layer {
 public:
  explicit ChannelPad(int64_t channels);
  Tensor forward(const Tensor& x) override;

 private:
  int64_t channels_;
};

class ConcatChannels : public Module {
 public:
  ConcatChannels() : Module("ConcatChannels") {}
  Tensor forward(const std::vector<Tensor>& parts);
};

}  // namespace remix::nn
