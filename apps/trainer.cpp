// The epoch loop, its stops and its checkpoints (see trainer.h).
#include "apps/trainer.h"

#include <cmath>
#include <filesystem>

#include "apps/curves.h"
#include "apps/data_source.h"
#include "apps/evaluate.h"
#include "data/dataset.h"
#include "nn/checkpoint.h"
#include "nn/json_guard.h"
#include "tensor/primitives.h"

namespace remix::app {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Tensors of `named` whose name starts with `prefix`, the prefix removed, on `device`.
nn::NamedTensors with_prefix(const nn::NamedTensors& named, const std::string& prefix,
                             Device device) {
  nn::NamedTensors selected;
  for (const auto& [name, tensor] : named)
    if (name.starts_with(prefix))
      selected.emplace_back(name.substr(prefix.size()), tensor.to(device));
  return selected;
}

Tensor extra_tensor(const nn::TrainingProgress& progress, const std::string& name,
                    const std::string& origin) {
  for (const auto& [key, tensor] : progress.extra)
    if (key == name) return tensor;
  throw_error(fmt::format("{}: extra.{} is missing (not a remix-train checkpoint?)", origin, name));
}

void add_with_prefix(nn::NamedTensors& to, const nn::NamedTensors& from,
                     const std::string& prefix) {
  for (const auto& [name, tensor] : from) to.emplace_back(prefix + name, tensor);
}

}  // namespace

Trainer::Trainer(const TrainConfig& config, TrainerHooks hooks)
    : config_(config),
      hooks_(std::move(hooks)),
      comm_(hooks_.communicator ? hooks_.communicator : dist::single_process_communicator()),
      input_(config_device(config), compute_dtype(config), config.crop_flip),
      store_(config.out) {
  set_compute_threads(config_.compute_threads);
  const Clock::time_point load_start = Clock::now();
  TrainTestData data = load_data(config_);
  const int64_t classes = data.train.num_classes;
  fmt::print(hooks_.out,
             "data {}: {} training and {} test images, {} classes, loaded in {:.1f} s\n",
             config_.data, data.train.size(), data.test.size(), classes, seconds_since(load_start));
  const uint64_t data_seed = stream_seed(config_.seed, RandomStream::data_order);
  // Each rank its shard: padded for training (equal steps), disjoint for the test set.
  data::LoaderOptions train_options =
      input_.loader_options(true, config_.batch_size, data_seed, config_.threads);
  train_options.shard = {comm_->world_size(), comm_->rank(), true};
  data::LoaderOptions test_options =
      input_.loader_options(false, config_.batch_size, data_seed, config_.threads);
  test_options.shard = {comm_->world_size(), comm_->rank(), false};
  train_loader_ = std::make_unique<data::DataLoader>(std::move(data.train), train_options);
  test_loader_ = std::make_unique<data::DataLoader>(std::move(data.test), test_options);
  model_ = hooks_.make_model ? hooks_.make_model(config_, classes) : build_model(config_, classes);
  optimizer_ = build_optimizer(config_, *model_);
  schedule_ = build_schedule(config_);
  augmentation_ = build_augmentation(config_, classes);
  step_ = std::make_unique<TrainStep>(*model_, *optimizer_, *augmentation_, config_.label_smoothing,
                                      config_.precision == "fp16", comm_.get());
  reset_sums();
}

int64_t Trainer::steps_per_epoch() const {
  const int64_t batches = train_loader_->num_batches();
  return config_.max_steps_per_epoch > 0 ? std::min(batches, config_.max_steps_per_epoch) : batches;
}

std::string Trainer::last_checkpoint() const {
  return store_.link_path("last").string();
}
std::string Trainer::best_checkpoint() const {
  return store_.link_path("best").string();
}

void Trainer::reset_sums() {
  const Device device = input_.device();
  sums_ = {Tensor::zeros({1}, DType::f32, device), Tensor::zeros({1}, DType::f32, device), 0};
}

// ------------------------------------------------------------------------------- checkpoints

void Trainer::save(bool new_best) const {
  const nn::NamedTensors other_ranks = other_ranks_augmentation_states();  // on every rank
  if (!comm_->is_root()) return;  // rank 0 writes the run's files
  nn::TrainingProgress progress;
  progress.step = optimizer_->step_count();
  nlohmann::json& info = progress.info;  // read back by resume()
  info["epoch"] = position_.epoch;
  info["batch"] = position_.batch;
  info["images"] = sums_.images;
  info["best_top1"] = best_top1_;
  info["best_step"] = best_step_;
  info["elapsed_s"] = elapsed_seconds();
  info["model"] = config_.model;  // for people reading the file
  info["aug"] = config_.aug;
  progress.extra = {{"train.loss_sum", sums_.loss}, {"train.correct", sums_.correct}};
  add_with_prefix(progress.extra, augmentation_->state(), "augment.");
  add_with_prefix(progress.extra, other_ranks, "");
  if (const nn::GradScaler* scaler = step_->grad_scaler())
    add_with_prefix(progress.extra, scaler->state_dict(), "grad_scaler.");
  store_.write(*model_, *optimizer_, progress);
  // best before last: a kill in between leaves best newer than what last calls the best, never
  // older.
  if (new_best) store_.link("best", progress.step);
  store_.link("last", progress.step);
  store_.remove_unlinked();
}

// The run goes on from the checkpoint just loaded: last names it, best names the best one it
// knows, and what came after it (saved before a rewind, or by a save that a kill cut short
// before its links were switched) is deleted, so that no later save finds a stale unit.
void Trainer::relink_after_resume(int64_t step) {
  if (!fs::exists(store_.model_path(step))) return;  // not one of this run's units
  if (best_step_ >= 0 && fs::exists(store_.model_path(best_step_)))
    store_.link("best", best_step_);
  else if (store_.linked_step("best").value_or(-1) > step)
    store_.unlink("best");
  store_.link("last", step);
  store_.remove_unlinked();
}

void Trainer::resume(const std::string& checkpoint_path) {
  wait_until_rank_0_is_ready_to_read();
  const nn::TrainingProgress progress = nn::load_checkpoint(checkpoint_path, *model_, *optimizer_);
  const Device device = input_.device();
  try {
    const nlohmann::json& info = progress.info;
    const auto integer = [&info](const char* key) { return nn::json_int64(info.at(key), key); };
    const auto number = [&info](const char* key) { return nn::json_double(info.at(key), key); };
    position_ = {integer("epoch"), integer("batch")};
    sums_.images = integer("images");
    best_top1_ = number("best_top1");
    best_step_ = info.contains("best_step") ? integer("best_step") : -1;
    elapsed_before_ = number("elapsed_s");
  } catch (const nlohmann::json::exception& e) {
    throw_error(
        fmt::format("{}: the training progress is incomplete: {}", checkpoint_path, e.what()));
  } catch (const Error& e) {
    throw_error(fmt::format("{}: the training progress is wrong: {}", checkpoint_path, e.what()));
  }
  REMIX_CHECK(position_.epoch >= 0 && position_.batch >= 0 && position_.batch < steps_per_epoch(),
              "{} stopped at batch {} of epoch {}, but an epoch of this run has {} batches: resume "
              "with the run's --batch-size and data",
              checkpoint_path, position_.batch, position_.epoch + 1, steps_per_epoch());
  sums_.loss = extra_tensor(progress, "train.loss_sum", checkpoint_path).to(device);
  sums_.correct = extra_tensor(progress, "train.correct", checkpoint_path).to(device);
  if (!comm_->is_root()) reset_sums();  // the saved sums are every rank's: rank 0 holds them
  // Each rank its own augmentation state (other_ranks_augmentation_states).
  const std::string own_state =
      comm_->is_root() ? "augment." : fmt::format("augment_rank{}.", comm_->rank());
  augmentation_->load_state(with_prefix(progress.extra, own_state, device));
  const nn::NamedTensors scaler_state = with_prefix(progress.extra, "grad_scaler.", device);
  if (nn::GradScaler* scaler = step_->grad_scaler(); scaler && !scaler_state.empty())
    scaler->load_state_dict(scaler_state);
  resumed_ = true;
  // Every rank has read the checkpoint before rank 0 deletes what came after it.
  check_every_rank_loaded_step(progress.step, checkpoint_path);
  if (!comm_->is_root()) return;
  truncate_metrics((fs::path(config_.out) / "metrics.jsonl").string(), position_.epoch);
  relink_after_resume(progress.step);
}

// ---------------------------------------------------------------------------------- the loop

void Trainer::prepare_output_directory() {
  if (!comm_->is_root()) return;
  fs::create_directories(config_.out);
  const bool holds_a_run =
      fs::exists(fs::symlink_status(last_checkpoint())) || store_.newest_complete().has_value();
  REMIX_CHECK(resumed_ || !holds_a_run,
              "{} already holds a run (a checkpoint exists): continue it with --resume {}, or "
              "choose another --out",
              config_.out, config_.out);
  if (!resumed_) std::filesystem::remove(fs::path(config_.out) / "metrics.jsonl");
  const std::string text = to_json(config_).dump(2) + '\n';
  nn::write_file_atomically((fs::path(config_.out) / "config.json").string(),
                            std::vector<uint8_t>(text.begin(), text.end()));
}

TrainResult Trainer::run() {
  prepare_output_directory();
  run_start_ = Clock::now();
  TrainResult result;
  ProgressDisplay display(hooks_.out, hooks_.interactive, config_.log_every);
  while (position_.epoch < config_.epochs) {
    const EpochEnd end = train_epoch(display);
    display.finish_epoch();
    if (end == EpochEnd::interrupted) return stop(std::move(result), TrainOutcome::interrupted);
    if (end == EpochEnd::diverged || !finish_epoch(result))
      return stop(std::move(result), TrainOutcome::diverged);
    if (stop_requested_on_any_rank() && position_.epoch < config_.epochs)
      return stop(std::move(result), TrainOutcome::interrupted);
  }
  result.best_top1 = std::max(best_top1_, 0.0);
  return result;
}

Trainer::EpochEnd Trainer::train_epoch(ProgressDisplay& display) {
  const int64_t steps = steps_per_epoch();
  if (position_.batch == 0) {
    augmentation_->start_epoch();
    reset_sums();
  }
  train_loader_->start_epoch(position_.epoch, position_.batch);
  display.start_epoch(position_.epoch, config_.epochs, position_.batch, steps);
  model_->train();
  epoch_start_ = Clock::now();
  session_images_ = 0;
  while (position_.batch < steps) {
    if (stop_requested_on_any_rank()) {
      const std::array<double, 4> sums = global_sums();
      const bool finite = std::isfinite(sums[0]);
      if (finite) {  // a NaN never overwrites a checkpoint
        keep_global_sums_on_rank_0(sums);
        save(false);
      }
      return finite ? EpochEnd::interrupted : EpochEnd::diverged;
    }
    std::optional<data::Batch> batch = train_loader_->next();
    REMIX_CHECK(batch.has_value(), "the loader ended epoch {} after {} of {} batches",
                position_.epoch + 1, position_.batch, steps);
    train_batch(*batch);
    ++position_.batch;
    if (root_decides(display.wants_update(position_.batch)) && !show_progress(display))
      return EpochEnd::diverged;
  }
  return EpochEnd::completed;
}

void Trainer::train_batch(const data::Batch& batch) {
  optimizer_->set_lr(schedule_->lr(position_.epoch, position_.batch, steps_per_epoch()));
  Generator gen(data::derive_seed({config_.seed, static_cast<uint64_t>(RandomStream::step),
                                   static_cast<uint64_t>(position_.epoch),
                                   static_cast<uint64_t>(position_.batch)}));
  const StepOutput out = step_->run(input_.images(batch, true), input_.labels(batch), gen);
  const int64_t n = batch.labels.numel();
  const Tensor weighted =
      prim::binary_scalar(BinaryOp::mul, out.loss.reshape({1}), static_cast<double>(n));
  sums_.loss = prim::binary(BinaryOp::add, sums_.loss, weighted);
  sums_.correct = prim::binary(BinaryOp::add, sums_.correct,
                               count_correct(out.logits, out.targets).reshape({1}));
  sums_.images += n;
  session_images_ += n;
}

bool Trainer::show_progress(ProgressDisplay& display) {
  const auto [loss_sum, correct, all_images, session_images] = global_sums();
  const double images = std::max(all_images, 1.0);
  const double loss = loss_sum / images;
  if (!std::isfinite(loss)) return false;
  display.update(position_.batch, loss, correct / images, static_cast<int64_t>(session_images));
  return true;
}

bool Trainer::finish_epoch(TrainResult& result) {
  // Reading synchronises: the epoch's work is done.
  const auto [loss_sum, correct, images, session_images] = global_sums();
  EpochMetrics m;
  m.epoch = position_.epoch + 1;
  m.train_loss = loss_sum / images;
  m.train_top1 = correct / images;
  m.images_per_s = session_images / seconds_since(epoch_start_);
  m.lr = optimizer_->lr();
  average_batch_norm_statistics();
  const EvalResult test = evaluate(*model_, *test_loader_, input_, comm_.get());
  m.test_loss = test.loss;
  m.test_top1 = test.top1;
  m.test_top5 = test.top5;
  if (!std::isfinite(m.train_loss) || !std::isfinite(m.test_loss)) return false;
  position_ = {position_.epoch + 1, 0};
  m.elapsed_s = elapsed_seconds();
  if (comm_->is_root()) {
    append_metrics((fs::path(config_.out) / "metrics.jsonl").string(), m);
    write_curves_svg((fs::path(config_.out) / "curves.svg").string(),
                     {read_run_curves(config_.out)});
  }
  const bool improved = m.test_top1 > best_top1_;
  if (improved) {
    best_top1_ = m.test_top1;
    best_step_ = optimizer_->step_count();
  }
  save(improved);
  fmt::print(hooks_.out, "{}\n", format_epoch_line(m, config_.epochs));
  std::fflush(hooks_.out);
  result.epochs.push_back(m);
  return true;
}

double Trainer::elapsed_seconds() const {
  return elapsed_before_ + seconds_since(run_start_);
}

// ------------------------------------------------------------------------------------- stops

TrainResult Trainer::stop(TrainResult result, TrainOutcome outcome) {
  result.outcome = outcome;
  result.best_top1 = std::max(best_top1_, 0.0);
  result.message =
      outcome == TrainOutcome::interrupted ? interrupted_message() : diverged_message();
  return result;
}

std::string Trainer::interrupted_message() const {
  return fmt::format(
      "interrupted at epoch {}, batch {} of {}: saved {}\nresume with: remix-train --resume {}",
      position_.epoch + 1, position_.batch, steps_per_epoch(), last_checkpoint(), config_.out);
}

std::string Trainer::diverged_message() const {
  const std::string last = fs::exists(last_checkpoint())
                               ? fmt::format(
                                     "the last checkpoint, {}, is intact and was not "
                                     "overwritten",
                                     last_checkpoint())
                               : std::string("no checkpoint was written");
  return fmt::format(
      "training diverged: the loss is NaN or infinite at epoch {}, batch {} of {}; {}.\nTry a "
      "lower --lr (now {}), --precision fp32, or a learning-rate warm-up (--warmup 1 or more).",
      position_.epoch + 1, position_.batch, steps_per_epoch(), last, config_.lr);
}

}  // namespace remix::app
