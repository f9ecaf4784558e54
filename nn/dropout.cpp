// Dropout layer (the arithmetic is remix::dropout in autograd/functions/dropout.cpp).
#include "nn/dropout.h"

#include "autograd/ops.h"

namespace remix::nn {

Dropout::Dropout(double p, Generator& gen) : Layer("Dropout"), p_(p), gen_(&gen) {
  REMIX_CHECK(p >= 0 && p < 1, "Dropout: expected 0 <= p < 1, got {}", p);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p_ == 0) return traced(x);
  return traced(dropout(x, p_, *gen_));
}

}  // namespace remix::nn
