// Test-set evaluation (see evaluate.h).
#include "apps/evaluate.h"

#include "apps/metrics.h"
#include "autograd/ops.h"
#include "nn/loss.h"

namespace remix::app {

namespace {

// Restores the model's training mode when evaluation ends, by return or by exception.
class EvalMode {
 public:
  explicit EvalMode(nn::Module& model) : model_(model), was_training_(model.is_training()) {
    model_.eval();
  }
  ~EvalMode() { model_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  nn::Module& model_;
  bool was_training_;
};

}  // namespace

EvalResult evaluate(nn::Classifier& model, data::DataLoader& loader, const InputPipeline& input,
                    dist::Communicator* communicator) {
  NoGradGuard no_grad;
  EvalMode eval_mode(model);
  double loss_sum = 0;
  TopKCounts correct;
  int64_t seen = 0;
  loader.start_epoch(0);
  while (std::optional<data::Batch> batch = loader.next()) {
    const Tensor logits = cast(model.forward(input.images(*batch, false)), DType::f32);
    const auto n = batch->labels.numel();
    loss_sum += static_cast<double>(nn::cross_entropy(logits, input.labels(*batch)).item()) *
                static_cast<double>(n);
    const TopKCounts counts =
        count_top_k(logits.to_vector<float>(), batch->labels.to_vector<int32_t>(), logits.size(1));
    correct.top1 += counts.top1;
    correct.top5 += counts.top5;
    seen += n;
  }
  std::vector<double> sums = {loss_sum, static_cast<double>(correct.top1),
                              static_cast<double>(correct.top5), static_cast<double>(seen)};
  if (communicator) communicator->sum(sums);
  const double total = sums[3];
  REMIX_CHECK(total > 0, "evaluate: the test set is empty");
  return {sums[0] / total, sums[1] / total, sums[2] / total, static_cast<int64_t>(total)};
}

nlohmann::json to_json(const EvalResult& r) {
  return {{"test_loss", r.loss},
          {"test_top1", r.top1},
          {"test_top5", r.top5},
          {"test_images", r.images}};
}

}  // namespace remix::app
