// Differentiable softmax and the losses built on it, over the last axis.
//
// log_softmax and the soft-target cross entropy are primitives with their own backward:
//   log_softmax:    dx = dy - softmax(x) * sum(dy)
//   cross entropy:  dlogits[n] = dloss[n] * (softmax(z[n]) * sum(t[n]) - t[n])
// Everything else is composed from them and records no node of its own: softmax is
// exp(log_softmax), the batch loss is the mean of the per-row losses, hard labels become
// (smoothed) one-hot targets, and the KL divergence is written out from its definition.
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct LogSoftmaxBackward : Node {
  Tensor y;
  std::string name() const override { return "LogSoftmaxBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {prim::log_softmax_backward(dy, y)};
  }
  void release_saved() override { y = Tensor(); }
};

// Per-row losses of f32 logits against soft targets; the targets get no gradient.
struct CrossEntropyBackward : Node {
  Tensor logits, targets;
  std::string name() const override { return "CrossEntropyBackward"; }
  std::vector<Tensor> backward(const Tensor& dloss) override {
    return {prim::cross_entropy_backward(dloss, logits, targets)};
  }
  void release_saved() override { logits = targets = Tensor(); }
};

Tensor cross_entropy_rows(const Tensor& logits, const Tensor& targets) {
  Tensor loss = prim::cross_entropy_forward(logits, targets);
  if (auto node = make_node<CrossEntropyBackward>({&logits})) {
    node->logits = logits, node->targets = targets;
    set_history(loss, node);
  }
  return loss;
}

void check_logits(const Tensor& logits, const char* what) {
  REMIX_CHECK(logits.dim() == 2, "{}: logits must be N x K (rows of class scores), got {}", what,
              to_string(logits.shape()));
}

}  // namespace

Tensor log_softmax(const Tensor& x) {
  Tensor y = prim::log_softmax_forward(x);
  if (auto node = make_node<LogSoftmaxBackward>({&x})) {
    node->y = detach(y);  // detached: the node must not own its output's history (a cycle)
    set_history(y, node);
  }
  return y;
}

Tensor softmax(const Tensor& x) { return exp(log_softmax(x)); }

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
  check_logits(logits, "cross_entropy");
  const Tensor targets_f32 = prim::cast(targets, DType::f32);  // constants: no gradient
  return mean(cross_entropy_rows(cast(logits, DType::f32), targets_f32));
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, double label_smoothing) {
  check_logits(logits, "cross_entropy");
  REMIX_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0),
              "cross_entropy: expected {} labels (one per row of logits {}), got shape {}",
              logits.size(0), to_string(logits.shape()), to_string(labels.shape()));
  return cross_entropy(logits, prim::one_hot(labels, logits.size(1), label_smoothing));
}

// KL(t || softmax(z)) per row = sum_k t_k (log t_k - log_softmax(z)_k), averaged over rows. Where
// t_k = 0 the term is 0 (0 log 0 = 0): log t is evaluated as log(t + [t == 0]) = log 1 there.
// Both arguments get their exact gradient.
Tensor kl_divergence(const Tensor& logits, const Tensor& targets) {
  check_logits(logits, "kl_divergence");
  check_same_shape(logits, targets, "kl_divergence logits/targets");
  const Tensor z = cast(logits, DType::f32);
  const Tensor t = cast(targets, DType::f32);
  const Tensor is_zero = prim::binary_scalar(BinaryOp::equal, t, 0.0);
  const Tensor log_t = log(add(t, is_zero));
  const Tensor per_element = mul(t, sub(log_t, log_softmax(z)));
  return mul(sum(per_element), 1.0 / static_cast<double>(logits.size(0)));
}

}  // namespace remix
