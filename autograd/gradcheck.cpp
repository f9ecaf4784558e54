#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/random.h"

namespace remix {

namespace {

// sum_i w_i * y_i in double, on the host.
double weighted_sum(const Tensor& y, const std::vector<float>& w) {
  const std::vector<float> values = y.to(DType::f32).to_vector<float>();
  double total = 0;
  for (size_t i = 0; i < values.size(); ++i) total += static_cast<double>(values[i]) * w[i];
  return total;
}

std::vector<int64_t> elements_to_check(int64_t n, int64_t max_elements, Generator& gen) {
  if (n <= max_elements) {
    std::vector<int64_t> all(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) all[i] = i;
    return all;
  }
  std::vector<int64_t> perm = gen.permutation(n);
  perm.resize(static_cast<size_t>(max_elements));
  return perm;
}

}  // namespace

GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  Generator gen(options.seed);
  std::vector<Tensor> xs;
  std::vector<bool> checked;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor x = inputs[i].clone();
    const bool check = is_floating(x.dtype()) &&
                       (options.check_input.empty() || options.check_input.at(i));
    if (check) {
      REMIX_CHECK(x.device().is_cpu() && x.dtype() == DType::f32,
                  "gradcheck: input {} must be an f32 CPU tensor", i);
      set_requires_grad(x, true);
    }
    xs.push_back(x);
    checked.push_back(check);
  }

  const Tensor y = f(xs);
  std::vector<float> w(static_cast<size_t>(y.numel()));
  for (float& v : w) v = static_cast<float>(gen.normal());
  backward(y, Tensor::from_vector(w, y.shape(), y.device()).to(y.dtype()));

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!checked[i]) continue;
    const Tensor analytic = grad(xs[i]);
    const std::vector<float> a =
        analytic.defined() ? analytic.to_vector<float>() : std::vector<float>(xs[i].numel(), 0.f);
    float* x = xs[i].data<float>();
    for (int64_t j : elements_to_check(xs[i].numel(), options.max_elements, gen)) {
      const float original = x[j];
      x[j] = static_cast<float>(original + options.eps);
      const double plus = weighted_sum(f(xs), w);
      x[j] = static_cast<float>(original - options.eps);
      const double minus = weighted_sum(f(xs), w);
      x[j] = original;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double error = std::abs(a[j] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, error);
      if (result.ok && !(error <= options.atol + options.rtol * std::abs(numeric))) {
        result.ok = false;
        result.message = fmt::format(
            "input {} element {}: analytic gradient {:.6g}, numeric {:.6g} (|diff| {:.3g})", i, j,
            a[j], numeric, error);
      }
    }
  }
  return result;
}

}  // namespace remix
