// Checks a differentiable function's analytic gradient against central differences:
//   d sum(w * f(x)) / dx_i  ~=  (L(x_i + eps) - L(x_i - eps)) / (2 eps)
// with a fixed random weighting w of the outputs, so every output element matters and a wrong
// sign, factor or index shows. Inputs must be f32 CPU tensors; each is perturbed element by
// element (or on `max_elements` random elements of larger inputs).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace remix {

struct GradcheckOptions {
  double eps = 1e-2;
  double atol = 1e-3;
  double rtol = 1e-2;
  int64_t max_elements = 64;  // per input
  uint64_t seed = 1234;
  std::vector<bool> check_input;  // empty: every input that is floating point
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: input, element, analytic vs numeric
  double max_abs_error = 0;
};

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace remix
