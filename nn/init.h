// Parameter initialisers, as PyTorch's reference models use them. Every one draws from an
// explicit Generator, so a model built from the same seed has the same weights. Tensors are f32
// and are filled in place (their memory and autograd state are kept).
#pragma once

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace remix::nn::init {

// Kaiming (He) normal, fan-out mode, for ReLU networks: N(0, std^2) with
// std = sqrt(2 / fan_out), fan_out = K * R * S for a K x R x S x C convolution weight
// (torch.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")).
void kaiming_normal_fan_out(Tensor& conv_weight, Generator& gen);

// U(low, high) in every element (torch.nn.init.uniform_).
void uniform(Tensor& t, double low, double high, Generator& gen);

// Every element set to `value` (torch.nn.init.constant_).
void constant(Tensor& t, double value);

// PyTorch's default nn.Linear initialisation: weight (out x in) and bias both
// U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5) reduces to this bound for the
// weight). `bias` may be undefined.
void linear_default(Tensor& weight, Tensor& bias, Generator& gen);

}  // namespace remix::nn::init
