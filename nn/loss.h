// Classification losses, all averaged over the N rows of N x K logits and computed in f32
// (logits of another dtype are cast first). Thin, checked wrappers over autograd/ops.h.
//
//   cross_entropy(z, labels, s)   hard i32 labels in [0, K), optionally label-smoothed:
//                                 targets t = (1 - s) * one_hot + s / K, then the soft form.
//   soft_cross_entropy(z, t)      mean_n( -sum_k t[n,k] * log_softmax(z[n])_k ), t rows sum to 1
//                                 (mixed targets of Mixup/CutMix/RecursiveMix).
//   kl_divergence(z, t)           mean_n( sum_k t log t - t log_softmax(z) ), with 0 log 0 = 0,
//                                 as F.kl_div(log_softmax(z), t, reduction="batchmean"). It
//                                 differs from soft_cross_entropy by the targets' entropy only,
//                                 so the gradient with respect to z is the same.
// Targets never receive a gradient.
#pragma once

#include "tensor/tensor.h"

namespace remix::nn {

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, double label_smoothing = 0.0);
Tensor soft_cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor kl_divergence(const Tensor& logits, const Tensor& targets);

}  // namespace remix::nn
