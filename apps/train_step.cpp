// The training step (see train_step.h).
#include "apps/train_step.h"

#include "augment/loss.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "dist/gradient_buckets.h"
#include "tensor/primitives.h"
#include "tensor/profile.h"

namespace remix::app {

TrainStep::TrainStep(nn::Classifier& model, nn::Optimizer& optimizer,
                     augment::BatchAugmentation& augmentation, double label_smoothing, bool fp16,
                     dist::Communicator* communicator)
    : model_(model),
      optimizer_(optimizer),
      augmentation_(augmentation),
      label_smoothing_(label_smoothing),
      communicator_(communicator) {
  if (communicator_ != nullptr && communicator_->world_size() > 1) {
    std::vector<Tensor> parameters;
    for (const auto& [name, parameter] : optimizer.params()) parameters.push_back(parameter);
    reducer_ = std::make_unique<dist::GradientReducer>(*communicator_, parameters);
  }
  if (fp16) {
    const Tensor& any_parameter = optimizer.params().front().second;
    scaler_ = std::make_unique<nn::GradScaler>(any_parameter.device());
  }
}

StepOutput TrainStep::run(const Tensor& images, const Tensor& labels, Generator& gen) {
  const Tensor targets = prim::one_hot(labels, model_.num_classes(), label_smoothing_);
  const augment::MixedBatch batch = mix(images, targets, gen);
  const augment::TrainingLoss loss = augment::mixed_batch_loss(model_, batch);
  const Tensor logits = detach(loss.logits);
  {
    const profile::Scope timed(profile::Kind::augmentation);
    augmentation_.remember(batch, logits);
  }
  backward_and_update(loss.total);
  return {detach(loss.total), logits, batch.targets};
}

augment::MixedBatch TrainStep::mix(const Tensor& images, const Tensor& targets, Generator& gen) {
  const profile::Scope timed(profile::Kind::augmentation);
  return augmentation_.mix(images, targets, gen);
}

void TrainStep::backward_and_update(const Tensor& loss) {
  optimizer_.zero_grad();
  if (!scaler_) {
    backward_and_average(loss);
    const profile::Scope timed(profile::Kind::optimizer);
    optimizer_.step();
    return;
  }
  backward_and_average(scaler_->scale(loss));  // scaled: every rank sees the same overflow
  scaler_->step(optimizer_);  // unscales; skips the update when a gradient overflowed
  scaler_->update();
}

// With several ranks, each bucket of gradients starts its reduction as soon as backward has
// finished it (dist/gradient_buckets.h), and finish() waits for the last ones.
void TrainStep::backward_and_average(const Tensor& loss) {
  if (!reducer_) return backward(loss);
  backward(loss, Tensor(), false, [this](const AutogradMetaBase* leaf, const Tensor& grad) {
    reducer_->gradient_ready(leaf, grad);
  });
  reducer_->finish();
}

Tensor count_correct(const Tensor& logits, const Tensor& targets) {
  const Tensor predicted = prim::cast(prim::argmax(prim::cast(logits, DType::f32), 1), DType::f32);
  const Tensor truth = prim::cast(prim::argmax(targets, 1), DType::f32);
  return prim::reduce(ReduceOp::sum, prim::binary(BinaryOp::equal, predicted, truth), {}, false);
}

}  // namespace remix::app
