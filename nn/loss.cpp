// Losses: input checks, then the differentiable ops of autograd/ops.h (see loss.h for formulas).
#include "nn/loss.h"

#include "autograd/ops.h"

namespace remix::nn {

namespace {

void check_logits(const Tensor& logits, const char* what) {
  REMIX_CHECK(logits.dim() == 2 && is_floating(logits.dtype()),
              "{}: expected N x K floating-point logits, got {} {}", what,
              dtype_name(logits.dtype()), to_string(logits.shape()));
}

void check_soft_targets(const Tensor& logits, const Tensor& targets, const char* what) {
  check_logits(logits, what);
  REMIX_CHECK(targets.shape() == logits.shape() && targets.dtype() == DType::f32,
              "{}: expected f32 targets of the logits' shape {}, got {} {}", what,
              to_string(logits.shape()), dtype_name(targets.dtype()), to_string(targets.shape()));
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, double label_smoothing) {
  check_logits(logits, "cross_entropy");
  REMIX_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0) && labels.dtype() == DType::i32,
              "cross_entropy: expected {} i32 labels, got {} {}", logits.size(0),
              dtype_name(labels.dtype()), to_string(labels.shape()));
  REMIX_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
              "cross_entropy: label smoothing must be in [0, 1], got {}", label_smoothing);
  return remix::cross_entropy(logits, labels, label_smoothing);
}

Tensor soft_cross_entropy(const Tensor& logits, const Tensor& targets) {
  check_soft_targets(logits, targets, "soft_cross_entropy");
  return remix::cross_entropy(logits, targets);
}

Tensor kl_divergence(const Tensor& logits, const Tensor& targets) {
  check_soft_targets(logits, targets, "kl_divergence");
  return remix::kl_divergence(logits, targets);
}

}  // namespace remix::nn
