// Trainer: the epoch loop of remix-train, with its checkpoints and its stops.
//
//   for each epoch:  (RecursiveMix history reset, running sums reset)
//     for each batch:  lr = schedule(epoch, batch); TrainStep on a generator seeded by
//                      (seed, epoch, batch); add loss and correct count to running sums
//     evaluate on the test set; append a line to metrics.jsonl; save a checkpoint, which becomes
//     last.safetensors, and best.safetensors too when test top-1 improved
//
// Output directory (config.out): config.json, metrics.jsonl, and the checkpoints: one folder per
// saved step under checkpoints/, named by the links last.safetensors and best.safetensors
// (nn/checkpoint_store.h: each checkpoint survives a kill at any instant whole, or not at all).
//
// Stops:
//   - stop_requested() (Ctrl-C) is checked between steps: the exact position (epoch and next
//     batch), the running sums, the augmentation's history and the GradScaler are saved as the
//     last checkpoint, so resume() continues as if nothing had happened;
//   - a NaN or inf loss, checked whenever the loss is read for the progress display and at the
//     end of every epoch (never every step: on a GPU that would synchronise), stops training
//     without writing any checkpoint, so the last one stays good.
// Resuming is exact on the CPU: batches, augmentation draws and the learning rate depend only
// on (seed, epoch, batch), and everything else is in the checkpoint.
//
// Data-parallel (hooks.communicator with several ranks; dist/README.md): every rank trains on
// its shard of each epoch (data/shard.h) and TrainStep averages the gradients. Every decision
// that ends a loop (stop request, NaN check, end of epoch) is taken from values summed over the
// ranks, so all take it together. Rank 0 alone writes config.json, metrics.jsonl and the
// checkpoints; the other ranks' hooks.out is where their progress goes (remix-train: nowhere).
// Before each evaluation the batch-norm running statistics are averaged over the ranks, so that
// every rank evaluates (its shard of the test set) the model rank 0 saves. Rank 0's checkpoints
// hold every rank's augmentation state (augment_rank<r>.*) and the running sums of all ranks, so
// resuming with the same number of ranks is exact too. The other ranks return from a save while
// rank 0 may still be writing it, so resume() first waits for rank 0, then checks that every
// rank loaded the same step.
#pragma once

#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/input_pipeline.h"
#include "apps/metrics.h"
#include "apps/progress.h"
#include "apps/setup.h"
#include "apps/train_step.h"
#include "dist/communicator.h"
#include "nn/checkpoint_store.h"

namespace remix::app {

struct TrainerHooks {
  std::FILE* out = stdout;   // progress and summaries
  bool interactive = false;  // redraw a progress line in place (a terminal)
  // Checked before every step: true saves a resumable checkpoint and stops (Ctrl-C).
  std::function<bool()> stop_requested;
  // Builds the model instead of build_model (a network outside the zoo, e.g. a tiny one in
  // tests); it must return the model on the config's device.
  std::function<std::shared_ptr<nn::Classifier>(const TrainConfig&, int64_t num_classes)>
      make_model;
  // The ranks of a data-parallel run; nullptr: a single process.
  std::shared_ptr<dist::Communicator> communicator;
};

enum class TrainOutcome { finished, interrupted, diverged };

struct TrainResult {
  TrainOutcome outcome = TrainOutcome::finished;
  std::string message;               // what happened and what to do next
  std::vector<EpochMetrics> epochs;  // the epochs this call completed
  double best_top1 = 0;
};

// Where training stands: the epoch in progress (from 0) and the next batch to train in it.
struct RunPosition {
  int64_t epoch = 0, batch = 0;
};

class Trainer {
 public:
  // `config` must be resolved (resolve_config). Loads the data and builds the model, optimizer,
  // schedule and augmentation; writes nothing yet.
  Trainer(const TrainConfig& config, TrainerHooks hooks);

  // Restores a checkpoint of this run (model, optimizer, position, running sums, augmentation
  // and GradScaler state, best accuracy), truncates metrics.jsonl to its completed epochs, and
  // points the run's links at it (later checkpoints, if any, are deleted: the run goes on from
  // here).
  void resume(const std::string& checkpoint_path);
  // Trains from the current position to the last epoch, writing into config.out.
  TrainResult run();

  const TrainConfig& config() const { return config_; }
  nn::Classifier& model() { return *model_; }
  RunPosition position() const { return position_; }
  int64_t steps_per_epoch() const;
  std::string last_checkpoint() const;  // the links: RUN/last.safetensors, RUN/best.safetensors
  std::string best_checkpoint() const;

 private:
  enum class EpochEnd { completed, interrupted, diverged };
  struct RunningSums {
    Tensor loss;     // sum over the epoch's images of the step loss, f32 on the device
    Tensor correct;  // top-1 hits against the mixed targets, f32 on the device
    int64_t images = 0;
  };

  void prepare_output_directory();
  EpochEnd train_epoch(ProgressDisplay& display);
  void train_batch(const data::Batch& batch);
  bool show_progress(ProgressDisplay& display);  // false when the loss is not finite
  bool finish_epoch(TrainResult& result);        // false when the epoch diverged
  // A checkpoint of this step: last, and best when new_best. Every rank calls it (rank 0 writes).
  void save(bool new_best) const;
  nn::NamedTensors other_ranks_augmentation_states() const;
  void relink_after_resume(int64_t step);
  void reset_sums();
  // The running sums over every rank: loss, correct, images, this session's images.
  std::array<double, 4> global_sums() const;
  bool stop_requested_on_any_rank() const;
  void wait_until_rank_0_is_ready_to_read() const;
  void check_every_rank_loaded_step(int64_t step, const std::string& checkpoint_path) const;
  bool root_decides(bool root_choice) const;
  void keep_global_sums_on_rank_0(const std::array<double, 4>& sums);
  void average_batch_norm_statistics();
  double elapsed_seconds() const;
  TrainResult stop(TrainResult result, TrainOutcome outcome);
  std::string diverged_message() const;
  std::string interrupted_message() const;

  TrainConfig config_;
  TrainerHooks hooks_;
  std::shared_ptr<dist::Communicator> comm_;
  InputPipeline input_;
  std::unique_ptr<data::DataLoader> train_loader_, test_loader_;
  std::shared_ptr<nn::Classifier> model_;
  std::unique_ptr<nn::Optimizer> optimizer_;
  std::shared_ptr<const nn::LrSchedule> schedule_;
  std::unique_ptr<augment::BatchAugmentation> augmentation_;
  std::unique_ptr<TrainStep> step_;

  RunPosition position_;
  RunningSums sums_;
  nn::CheckpointStore store_;
  double best_top1_ = -1;      // -1: no epoch evaluated yet
  int64_t best_step_ = -1;     // the optimizer step of the best checkpoint; -1: none yet
  double elapsed_before_ = 0;  // training seconds of earlier (resumed) sessions
  bool resumed_ = false;
  // This session: when run() started, and the epoch's clock and image count for images/s.
  std::chrono::steady_clock::time_point run_start_, epoch_start_;
  int64_t session_images_ = 0;
};

}  // namespace remix::app
