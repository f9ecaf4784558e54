// ReLU: y = max(x, 0), element by element.
#pragma once

#include "nn/module.h"

namespace remix::nn {

class ReLU : public Layer {
 public:
  ReLU() : Layer("ReLU") {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace remix::nn
