// Parameter initialisers (see init.h for the formulas).
#include "nn/init.h"

#include <cmath>

#include "tensor/primitives.h"

namespace remix::nn::init {

namespace {

// Overwrites t's memory with `values` (t keeps its identity, so autograd state survives).
void assign(Tensor& t, const Tensor& values) {
  check_dtype(t, DType::f32, "initialiser");
  const std::vector<float> host = values.to_vector<float>();
  copy_host_to_tensor(host.data(), host.size() * sizeof(float), t);
}

}  // namespace

void kaiming_normal_fan_out(Tensor& conv_weight, Generator& gen) {
  REMIX_CHECK(conv_weight.dim() == 4,
              "kaiming_normal_fan_out expects a K x R x S x C weight, got {}",
              to_string(conv_weight.shape()));
  const int64_t fan_out = conv_weight.size(0) * conv_weight.size(1) * conv_weight.size(2);
  const double stddev = std::sqrt(2.0 / static_cast<double>(fan_out));
  assign(conv_weight, Tensor::normal(conv_weight.shape(), gen, 0.0, stddev));
}

void uniform(Tensor& t, double low, double high, Generator& gen) {
  assign(t, Tensor::uniform(t.shape(), gen, low, high));
}

void constant(Tensor& t, double value) {
  prim::fill(t, value);
}

void linear_default(Tensor& weight, Tensor& bias, Generator& gen) {
  REMIX_CHECK(weight.dim() == 2, "linear_default expects an out x in weight, got {}",
              to_string(weight.shape()));
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
  uniform(weight, -bound, bound, gen);
  if (bias.defined()) uniform(bias, -bound, bound, gen);
}

}  // namespace remix::nn::init
