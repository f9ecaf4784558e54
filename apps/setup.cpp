// Building the model, optimizer, schedule and augmentation of a run (see setup.h).
#include "apps/setup.h"

#include <omp.h>

#include "augment/registry.h"
#include "data/dataset.h"

namespace remix::app {

uint64_t stream_seed(uint64_t seed, RandomStream stream) {
  return data::derive_seed({seed, static_cast<uint64_t>(stream)});
}

void set_compute_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

std::shared_ptr<nn::Classifier> build_model(const TrainConfig& config, int64_t num_classes) {
  Generator gen(stream_seed(config.seed, RandomStream::model_init));
  nn::ModelOptions options;
  options.pyramid_depth = config.pyramid_depth;
  options.pyramid_alpha = config.pyramid_alpha;
  std::shared_ptr<nn::Classifier> model = nn::make_model(config.model, num_classes, gen, options);
  model->to(config_device(config));
  return model;
}

std::unique_ptr<nn::Optimizer> build_optimizer(const TrainConfig& config,
                                               const nn::Classifier& model) {
  if (config.optimizer == "adamw") {
    AdamWOptions options;
    options.weight_decay = config.wd;
    return std::make_unique<nn::AdamW>(model.named_parameters(), config.lr, options);
  }
  SgdOptions options;
  options.momentum = config.momentum;
  options.weight_decay = config.wd;
  options.nesterov = config.nesterov;
  return std::make_unique<nn::SGD>(model.named_parameters(), config.lr, options);
}

std::shared_ptr<const nn::LrSchedule> build_schedule(const TrainConfig& config) {
  std::shared_ptr<const nn::LrSchedule> main;
  if (config.schedule == "multistep")
    main = std::make_shared<nn::MultiStepSchedule>(config.lr, config.milestones, config.gamma);
  else
    main = std::make_shared<nn::CosineSchedule>(config.lr, config.epochs);
  if (config.warmup == 0) return main;
  return std::make_shared<nn::WarmupSchedule>(main, config.warmup, config.lr);
}

std::unique_ptr<augment::BatchAugmentation> build_augmentation(const TrainConfig& config,
                                                               int64_t num_classes) {
  augment::AugmentOptions options = config.augment;
  options.num_classes = num_classes;
  return augment::make_augmentation(config.aug, options);
}

}  // namespace remix::app
