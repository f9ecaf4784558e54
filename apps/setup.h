// The pieces of a training run, built from a TrainConfig: the model (initialised from the run's
// seed and moved to its device), the optimizer over its parameters, the learning-rate schedule
// and the batch augmentation.
#pragma once

#include <memory>

#include "apps/train_config.h"
#include "augment/augmentation.h"
#include "augment/options.h"
#include "nn/models/models.h"
#include "nn/optimizer.h"
#include "nn/schedule.h"

namespace remix::app {

// Seeds of the run's independent random streams, each derived from (seed, stream, ...).
enum class RandomStream : uint64_t { model_init = 1, data_order = 2, step = 3 };
uint64_t stream_seed(uint64_t seed, RandomStream stream);

// Sets the OpenMP threads of the CPU kernels (process-wide); 0 leaves OpenMP's default.
void set_compute_threads(int threads);

std::shared_ptr<nn::Classifier> build_model(const TrainConfig& config, int64_t num_classes);
std::unique_ptr<nn::Optimizer> build_optimizer(const TrainConfig& config,
                                               const nn::Classifier& model);
std::shared_ptr<const nn::LrSchedule> build_schedule(const TrainConfig& config);
std::unique_ptr<augment::BatchAugmentation> build_augmentation(const TrainConfig& config,
                                                               int64_t num_classes);

}  // namespace remix::app
