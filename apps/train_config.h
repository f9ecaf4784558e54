// TrainConfig: every setting of a training run, as remix-train's command line spells it.
//
// The same struct is filled from the command line (add_train_options), written to the run's
// config.json (to_json) and read back for --resume and --eval-only (config_from_json).
// resolve_config() checks the values and replaces the "auto" settings by what they mean on this
// machine (device, precision, milestones, output directory), so that config.json records what
// actually ran.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "augment/options.h"
#include "tensor/device.h"
#include "tensor/dtype.h"

namespace remix::app {

struct TrainConfig {
  // Model (nn/models/models.h).
  std::string model = "resnet20";
  int64_t pyramid_depth = 0;   // 0: the preset's depth
  double pyramid_alpha = 0.0;  // 0: the preset's widening
  // Data: synthetic | cifar10:DIR | cifar100:DIR | folder:DIR.
  std::string data = "synthetic";
  int64_t synthetic_train = 10000;
  int64_t synthetic_test = 2000;
  bool crop_flip = true;  // random crop (4-pixel padding) and flip of training images
  // Batch augmentation (augment/registry.h) and its settings, declared in augment/options.h:
  // --help, config.json (its "augment" object) and their range checks follow that declaration.
  std::string aug = "none";
  augment::AugmentOptions augment;
  // Optimisation.
  int64_t epochs = 200;
  int64_t batch_size = 128;
  double lr = 0.1;
  double momentum = 0.9;
  double wd = 5e-4;
  bool nesterov = false;
  std::string optimizer = "sgd";    // sgd | adamw
  std::string schedule = "cosine";  // cosine | multistep
  std::vector<int64_t> milestones;  // empty: 50% and 75% of the epochs
  double gamma = 0.1;
  int64_t warmup = 0;  // epochs of linear warm-up
  double label_smoothing = 0.0;
  // Running.
  std::string device = "auto";     // cpu | cuda | cuda:N | auto
  std::string precision = "auto";  // fp32 | bf16 | fp16 | auto
  uint64_t seed = 0;
  int threads = 2;          // loader worker threads
  int compute_threads = 0;  // OpenMP threads of the CPU kernels; 0: OpenMP's default
  std::string out;          // empty: runs/<model>-<aug>-<data>-<date>-<time>
  int64_t log_every = 50;
  int64_t max_steps_per_epoch = 0;  // 0: whole epochs
  // Data-parallel: the number of processes (set by remix-train, not an option); batch_size is
  // per process, config.json also records the global batch (world_size * batch_size).
  int64_t world_size = 1;
};

// Adds every TrainConfig option to `app`, each bound to its field, with its default in --help.
void add_train_options(CLI::App& app, TrainConfig& config);

// Checks the values (a remix::Error naming the option and what is allowed) and resolves the
// automatic ones. Loads nothing and creates nothing.
void resolve_config(TrainConfig& config);

nlohmann::json to_json(const TrainConfig& config);
// Fields missing from `json` keep their defaults; unknown keys are an error.
TrainConfig config_from_json(const nlohmann::json& json);
TrainConfig read_config_file(const std::string& path);

// The device a resolved config names.
Device config_device(const TrainConfig& config);
// The dtype activations are computed in: f32, bf16 or f16.
DType compute_dtype(const TrainConfig& config);

}  // namespace remix::app
