// remix-minimal: the shortest complete program. ResNet-20 learns the built-in synthetic dataset
// with RecursiveMix and SGD in one plain loop (forward, loss, backward, step) on the CPU, then
// prints its test accuracy. remix-train does the same step (apps/train_step.cpp) and adds the
// command line, the GPU, checkpoints, resume and the progress display.
//
//   remix-minimal [seed] [training images] [epochs]        (defaults: 0 4000 5)
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "augment/registry.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "nn/loss.h"
#include "nn/models/models.h"
#include "nn/optimizer.h"
#include "nn/schedule.h"
#include "tensor/primitives.h"

using namespace remix;

namespace {

// Share of the test images whose largest logit is their label's (main head only).
double test_accuracy(nn::Classifier& model, const data::Dataset& test_set) {
  NoGradGuard no_grad;  // no tape: nothing will be differentiated
  model.eval();         // batch norm normalises with its running statistics
  data::DataLoader loader(test_set, {.batch_size = 250, .shuffle = false, .workers = 0});
  loader.start_epoch(0);
  int64_t correct = 0;
  while (std::optional<data::Batch> batch = loader.next()) {
    const Tensor predicted = argmax(model.forward(data::normalize(batch->images)), 1);
    const std::vector<int32_t> p = predicted.to_vector<int32_t>();
    const std::vector<int32_t> y = batch->labels.to_vector<int32_t>();
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == y[i];
  }
  return static_cast<double>(correct) / static_cast<double>(test_set.size());
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t seed = argc > 1 ? std::stoull(argv[1]) : 0;
  const int64_t train_images = argc > 2 ? std::stoll(argv[2]) : 4000;
  const int64_t epochs = argc > 3 ? std::stoll(argv[3]) : 5;

  const data::SyntheticOptions sizes{.train_images = train_images, .test_images = 1000,
                                     .seed = seed};
  const data::Dataset train_set = data::make_synthetic(data::Split::train, sizes);
  const data::Dataset test_set = data::make_synthetic(data::Split::test, sizes);
  data::DataLoader loader(train_set, {.batch_size = 64, .seed = seed,
                                      .augmentation = data::Augmentation::crop_flip});

  Generator gen(seed);  // model initialisation, then every RecursiveMix draw
  const std::shared_ptr<nn::Classifier> model = nn::make_model("resnet20", 10, gen);
  nn::SGD sgd(model->named_parameters(), 0.1, {.momentum = 0.9, .weight_decay = 5e-4});
  const nn::CosineSchedule schedule(0.1, epochs);
  const auto rm = augment::make_augmentation("rm", {.num_classes = 10});  // alpha 0.5, omega 0.5

  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    model->train();
    rm->start_epoch();  // the history starts empty every epoch
    sgd.set_lr(schedule.lr(epoch, 0, loader.num_batches()));
    loader.start_epoch(epoch);
    double loss_sum = 0;
    while (std::optional<data::Batch> b = loader.next()) {
      // Pixels to a mixed batch: N x 32 x 32 x 3 f32 images, N x 10 soft targets.
      const Tensor images = data::normalize(b->images);
      const augment::MixedBatch batch = rm->mix(images, prim::one_hot(b->labels, 10), gen);
      // Forward: one backbone pass, the main head, and the ROI head over the pasted box.
      const Tensor features = model->features(batch.images);  // N x 8 x 8 x 64
      const Tensor logits = model->fc()(global_avg_pool(features));
      Tensor loss = nn::soft_cross_entropy(logits, batch.targets);
      if (batch.consistency) {
        const Tensor roi = model->roi_logits(features, batch.roi_boxes, 32, batch.shared_roi_head);
        loss = loss + nn::soft_cross_entropy(roi, batch.teacher_probs) * batch.consistency_weight;
      }
      rm->remember(batch, detach(logits));  // this step becomes the next one's history
      // Backward and update.
      sgd.zero_grad();
      backward(loss);
      sgd.step();
      loss_sum += loss.item();
    }
    std::printf("epoch %lld  lr %.4f  train loss %.4f\n", static_cast<long long>(epoch + 1),
                sgd.lr(), loss_sum / static_cast<double>(loader.num_batches()));
  }
  std::printf("test accuracy %.1f %%\n", 100.0 * test_accuracy(*model, test_set));
  return 0;
}
