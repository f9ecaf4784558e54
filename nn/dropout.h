// Dropout: in training, zeroes each element with probability p and scales the others by
// 1 / (1 - p) (inverted dropout, as torch.nn.Dropout); in eval mode, the identity. The random
// mask is drawn from the Generator given at construction, which must outlive the layer.
#pragma once

#include "nn/module.h"
#include "tensor/random.h"

namespace remix::nn {

class Dropout : public Layer {
 public:
  Dropout(double p, Generator& gen);
  Tensor forward(const Tensor& x) override;

 private:
  double p_;
  Generator* gen_;
};

}  // namespace remix::nn
