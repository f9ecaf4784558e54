// Exercise 1 (docs/EXERCISES.md): GELU as a composite op, built from autograd's elementwise ops so
// that its gradient comes for free. The tanh form of Hendrycks & Gimpel (2016):
//   gelu(x) = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
#pragma once

#include "tensor/tensor.h"

namespace remix::exercises {

Tensor gelu(const Tensor& x);

}  // namespace remix::exercises
