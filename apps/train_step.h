// THE training step, shared by remix-train and remix-bench. On a batch already on the device
// (images in the compute dtype, i32 labels):
//
//   targets = one_hot(labels, K, label smoothing)                       f32, N x K
//   mixed   = augmentation.apply(images, targets, gen)                  Mixup, CutMix, RM, ...
//   loss    = mixed_batch_loss(model, mixed)                            f32; main head, plus
//                                                                       RM's ROI consistency term
//   augmentation.remember(mixed, logits)                                RM's history
//   zero_grad; backward(loss); optimizer.step()                         lr set by the caller
//
// Data-parallel (a communicator with several ranks): the gradients are averaged over the ranks
// in buckets, each started as soon as backward has finished it and all done before the step
// (dist/gradient_buckets.h); with fp16 before the GradScaler unscales and checks them, so that
// all ranks skip the same steps.
//
// With fp16 the loss is scaled before backward and the step goes through the GradScaler, which
// skips it on the device when a gradient overflowed. Every random draw of the step comes from
// `gen`, which the caller seeds from (seed, epoch, step), so a resumed run needs no generator
// state. Nothing here reads a value back to the host: on the GPU the step runs asynchronously.
#pragma once

#include <memory>

#include "augment/augmentation.h"
#include "dist/communicator.h"
#include "dist/gradient_buckets.h"
#include "nn/grad_scaler.h"
#include "nn/models/classifier.h"
#include "nn/optimizer.h"

namespace remix::app {

struct StepOutput {
  Tensor loss;     // one f32 element on the device, no gradient
  Tensor logits;   // N x K main-head logits (compute dtype), no gradient
  Tensor targets;  // N x K f32 mixed targets
};

class TrainStep {
 public:
  // fp16 = true adds a GradScaler (dynamic loss scaling). `communicator` (optional) averages
  // the gradients over the ranks of a data-parallel run.
  TrainStep(nn::Classifier& model, nn::Optimizer& optimizer,
            augment::BatchAugmentation& augmentation, double label_smoothing, bool fp16,
            dist::Communicator* communicator = nullptr);

  StepOutput run(const Tensor& images, const Tensor& labels, Generator& gen);

  // nullptr unless fp16.
  nn::GradScaler* grad_scaler() { return scaler_.get(); }
  augment::BatchAugmentation& augmentation() { return augmentation_; }

 private:
  augment::MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen);
  void backward_and_update(const Tensor& loss);
  void backward_and_average(const Tensor& loss);

  nn::Classifier& model_;
  nn::Optimizer& optimizer_;
  augment::BatchAugmentation& augmentation_;
  double label_smoothing_;
  std::unique_ptr<nn::GradScaler> scaler_;
  dist::Communicator* communicator_;
  std::unique_ptr<dist::GradientReducer> reducer_;  // with several ranks
};

// Counts, on the device, the rows whose predicted class (argmax of logits) is the argmax of the
// (mixed) target: a one-element f32 tensor.
Tensor count_correct(const Tensor& logits, const Tensor& targets);

}  // namespace remix::app
