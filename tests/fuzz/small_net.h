// The network whose checkpoints the resume target loads and the seed corpus holds: layer names
// as in a ResNet (a convolution, a batch norm with its I64 counter, a linear layer), small enough
// that a checkpoint pair is about 2 KB.
#pragma once

#include <memory>

#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/linear.h"

namespace remix::fuzz {

class SmallNet : public nn::Layer {
 public:
  explicit SmallNet(Generator& gen) : Layer("SmallNet") {
    register_module("conv1", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{3, 4, 3, 1, 1}, gen));
    register_module("bn1", std::make_shared<nn::BatchNorm2d>(nn::BatchNorm2dOptions{4}));
    register_module("fc", std::make_shared<nn::Linear>(nn::LinearOptions{4, 10}, gen));
  }
  Tensor forward(const Tensor& x) override { return x; }  // only saved and loaded, never run
};

}  // namespace remix::fuzz
