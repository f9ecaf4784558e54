// Evaluation of a classifier on a test set: mean cross-entropy loss, top-1 and top-5 accuracy.
// Runs without gradients, in eval mode (BatchNorm uses its running statistics), with the main
// head only; the model's training mode is restored afterwards. Logits are copied to the host
// and ranked there (metrics.h).
#pragma once

#include <nlohmann/json.hpp>

#include "apps/input_pipeline.h"
#include "data/loader.h"
#include "dist/communicator.h"
#include "nn/models/classifier.h"

namespace remix::app {

struct EvalResult {
  double loss = 0;
  double top1 = 0, top5 = 0;  // fractions in [0, 1]
  int64_t images = 0;
};

// `loader` must not shuffle or augment (InputPipeline::loader_options(false, ...)). With a
// communicator, each rank's loader holds its shard of the test set (unpadded) and the sums of
// loss and hits are added over the ranks: every rank returns the whole set's result.
EvalResult evaluate(nn::Classifier& model, data::DataLoader& loader, const InputPipeline& input,
                    dist::Communicator* communicator = nullptr);

nlohmann::json to_json(const EvalResult& result);

}  // namespace remix::app
