// ReLU layer (the arithmetic is remix::relu in autograd/functions/elementwise.cpp).
#include "nn/activation.h"

#include "autograd/ops.h"

namespace remix::nn {

Tensor ReLU::forward(const Tensor& x) {
  return traced(relu(x));
}

}  // namespace remix::nn
