// remix-train: trains a classifier on CIFAR-10/100, an image folder or the built-in synthetic
// set, with a batch augmentation (none, cutout, mixup, cutmix, rm = RecursiveMix).
//
//   remix-train --model resnet20 --data synthetic --aug rm --epochs 10
//   remix-train --model resnet18 --data cifar10:/data/cifar-10-batches-bin --aug rm --epochs 200
//   remix-train --resume runs/resnet18-rm-cifar10-20261126-101500      (after Ctrl-C, or to go on)
//   remix-train --eval-only runs/.../best.safetensors
//   remix-train --model pyramidnet164 --summary
//
// --resume takes the run's settings from its config.json; options given on the command line
// override them (e.g. --epochs to train longer, --threads). --eval-only builds the model from the
// config.json beside the checkpoint when there is one (command-line options override it), else
// from the command line alone.
//
// Data-parallel over N processes (dist/README.md):
//   mpirun -np 2 remix-train --model resnet20 --aug rm --batch-size 64     (global batch 128)
// Each rank trains on its shard of every epoch with cuda:<local rank> (or the CPU); rank 0 alone
// prints and writes the run's files. An error on any rank ends every rank (MPI_Abort).
//
// Exit status: 0 done; 1 an error (its message on stderr); 3 training diverged (NaN/inf loss);
// 130 interrupted by Ctrl-C or SIGTERM after saving a resumable checkpoint; other non-zero values
// are command-line errors reported by CLI11.
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <filesystem>

#include "apps/data_source.h"
#include "apps/evaluate.h"
#include "apps/trainer.h"
#include "nn/checkpoint.h"
#include "nn/checkpoint_store.h"
#include "nn/summary.h"

namespace fs = std::filesystem;
using namespace remix;
using namespace remix::app;

namespace {

constexpr int kExitError = 1;
constexpr int kExitDiverged = 3;
constexpr int kExitInterrupted = 130;

volatile std::sig_atomic_t stop_signal = 0;

// Asks the training loop to stop between steps. A second Ctrl-C ends the program at once (the
// default action is restored); checkpoint files are written atomically, so that is safe too.
extern "C" void request_stop(int signal_number) {
  stop_signal = 1;
  std::signal(signal_number, SIG_DFL);
}

struct Command {
  std::string resume;     // a checkpoint or a run directory
  std::string eval_only;  // a checkpoint
  bool summary = false;
};

void add_command_options(CLI::App& app, Command& command) {
  app.add_option("--resume", command.resume,
                 "Continue a run: its directory (from its newest complete checkpoint) or a "
                 "checkpoint file");
  app.add_option("--eval-only", command.eval_only,
                 "Evaluate CHECKPOINT on the test set and exit (no training)");
  app.add_flag("--summary", command.summary,
               "Print the model's layers, output shapes, parameters and FLOPs, and exit");
}

// The options the user typed (not --resume / --eval-only themselves).
std::vector<std::string> given_options(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options())
    if (option->count() > 0 && option->get_name() != "--resume" &&
        option->get_name() != "--eval-only" && option->get_name() != "--help")
      names.push_back(option->get_name());
  return names;
}

// Replaces `config` by the one in `config_path`, then parses the command line again so that
// the options given there override it (CLI11 writes only the options that appear).
void load_run_config(CLI::App& app, int argc, char** argv, const std::string& config_path,
                     TrainConfig& config) {
  config = read_config_file(config_path);
  app.clear();
  app.parse(argc, argv);
  const std::vector<std::string> overridden = given_options(app);
  fmt::print(
      "settings from {}{}\n", config_path,
      overridden.empty() ? "" : fmt::format(", overridden by {}", fmt::join(overridden, " ")));
}

void print_config(const TrainConfig& config) {
  if (config.world_size == 1)
    fmt::print("remix-train configuration:\n");
  else
    fmt::print("remix-train configuration: {} processes x batch {} = global batch {}\n",
               config.world_size, config.batch_size, config.world_size * config.batch_size);
  const nlohmann::json settings = to_json(config);
  for (const auto& [key, value] : settings.items()) fmt::print("  {:<20} {}\n", key, value.dump());
  std::fflush(stdout);
}

int print_summary(TrainConfig& config) {
  resolve_config(config);
  const int64_t classes = class_count(parse_data_spec(config.data));
  const std::shared_ptr<nn::Classifier> model = build_model(config, classes);
  const nn::ModelSummary summary =
      nn::summarize(*model, {1, 32, 32, 3}, config_device(config), compute_dtype(config));
  fmt::print("{} ({} classes, 32x32x3 input)\n{}", config.model, classes,
             nn::format_summary(summary));
  return 0;
}

int evaluate_checkpoint(CLI::App& app, int argc, char** argv, const std::string& checkpoint,
                        TrainConfig& config) {
  REMIX_CHECK(fs::is_regular_file(checkpoint), "--eval-only: {} is not a file", checkpoint);
  const fs::path config_path = nn::CheckpointStore::run_directory_of(checkpoint) / "config.json";
  if (fs::exists(config_path)) load_run_config(app, argc, argv, config_path.string(), config);
  resolve_config(config);
  set_compute_threads(config.compute_threads);
  data::Dataset test = load_test_data(config);
  const std::shared_ptr<nn::Classifier> model = build_model(config, test.num_classes);
  nn::load_model(checkpoint, *model);
  const InputPipeline input(config_device(config), compute_dtype(config), false);
  data::DataLoader loader(std::move(test),
                          input.loader_options(false, config.batch_size, 0, config.threads));
  const EvalResult result = evaluate(*model, loader, input);
  REMIX_CHECK(std::isfinite(result.loss),
              "--eval-only: {} gives a test loss of {}: its weights are not a usable model (NaN "
              "or infinite values; a run saves no checkpoint once its loss is not finite)",
              checkpoint, result.loss);
  fmt::print("{}: test top-1 {:.2f}%  top-5 {:.2f}%  loss {:.4f}  ({} images)\n", checkpoint,
             100 * result.top1, 100 * result.top5, result.loss, result.images);
  nlohmann::json line = to_json(result);
  line["kind"] = "eval";
  line["checkpoint"] = checkpoint;
  line["model"] = config.model;
  fmt::print("{}\n", line.dump());
  return 0;
}

// The checkpoint and run directory named by --resume: a file as given, or for a run directory
// its newest complete checkpoint; none (a run stopped before its first save) gives an empty
// checkpoint, and the run starts from its first epoch.
std::pair<std::string, std::string> resume_paths(const std::string& resume) {
  if (fs::is_directory(resume)) {
    const std::optional<fs::path> newest = nn::CheckpointStore(resume).newest_complete();
    return {newest ? newest->string() : std::string(), resume};
  }
  REMIX_CHECK(fs::is_regular_file(resume), "--resume: {} is neither a run directory nor a file",
              resume);
  return {resume, nn::CheckpointStore::run_directory_of(resume).string()};
}

// For --resume: loads the run's config (command-line options override it) and returns the
// checkpoint to resume from.
std::string prepare_resume(CLI::App& app, int argc, char** argv, const std::string& resume,
                           TrainConfig& config) {
  REMIX_CHECK(app.get_option("--out")->count() == 0,
              "--out cannot be combined with --resume: a resumed run continues in its own "
              "directory");
  const auto [checkpoint, directory] = resume_paths(resume);
  const fs::path config_path = fs::path(directory) / "config.json";
  REMIX_CHECK(fs::exists(config_path),
              "--resume: {} is missing; the run's settings come from it (a run writes it once "
              "its data is loaded)",
              config_path.string());
  load_run_config(app, argc, argv, config_path.string(), config);
  config.out = directory;
  if (checkpoint.empty())
    fmt::print("{} holds no complete checkpoint yet: the run starts from its first epoch\n",
               directory);
  return checkpoint;
}

// Every rank returns the same status; rank 0 alone says why (root).
int exit_status(const TrainResult& result, const TrainConfig& config, bool root) {
  switch (result.outcome) {
    case TrainOutcome::interrupted:
      if (root) fmt::print(stderr, "{}\n", result.message);
      return kExitInterrupted;
    case TrainOutcome::diverged:
      if (root) fmt::print(stderr, "remix-train: {}\n", result.message);
      return kExitDiverged;
    case TrainOutcome::finished:
      break;
  }
  fmt::print("done: best test top-1 {:.2f}%; checkpoints and metrics.jsonl in {}\n",
             100 * result.best_top1, config.out);
  return 0;
}

// A run resumes with the number of processes it started with: the shards, the steps per epoch
// and the global batch depend on it.
void check_world_size(const TrainConfig& config, const dist::Communicator& comm) {
  REMIX_CHECK(config.world_size == comm.world_size(),
              "{} was trained with {} process(es) and is being resumed with {}: resume it with "
              "the same number (mpirun -np {})",
              config.out, config.world_size, comm.world_size(), config.world_size);
}

// Each rank of a CUDA run takes the GPU of its local rank.
void use_local_gpu(TrainConfig& config, const dist::Communicator& comm) {
  if (comm.world_size() > 1 && config_device(config).is_cuda())
    config.device = fmt::format("cuda:{}", comm.local_rank());
}

int train(CLI::App& app, int argc, char** argv, const Command& command, TrainConfig& config,
          const std::shared_ptr<dist::Communicator>& world) {
  const std::string checkpoint =
      command.resume.empty() ? "" : prepare_resume(app, argc, argv, command.resume, config);
  if (command.resume.empty())
    config.world_size = world->world_size();
  else
    check_world_size(config, *world);
  resolve_config(config);
  use_local_gpu(config, *world);
  print_config(config);
  TrainerHooks hooks;
  hooks.interactive = world->is_root() && isatty(fileno(stdout)) != 0;
  hooks.stop_requested = [] { return stop_signal != 0; };
  hooks.communicator = dist::communicator_for_device(world, config_device(config));
  Trainer trainer(config, hooks);
  if (!checkpoint.empty()) {
    trainer.resume(checkpoint);
    if (trainer.position().epoch >= config.epochs) {
      fmt::print("{} has trained all its {} epochs; add --epochs N (N > {}) to train longer\n",
                 config.out, config.epochs, config.epochs);
      return 0;
    }
    fmt::print("resumed {} at epoch {}, batch {}\n", checkpoint, trainer.position().epoch + 1,
               trainer.position().batch);
  }
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  return exit_status(trainer.run(), config, world->is_root());
}

// Prints `message` and returns the error status; with several ranks it ends them all instead,
// so that none waits forever in a collective for this one.
int fail(dist::Communicator* world, const std::string& message) {
  if (world && world->world_size() > 1) world->abort(message);
  fmt::print(stderr, "{}\n", message);
  return kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"remix-train: train a CIFAR classifier with Mixup, CutMix or RecursiveMix"};
  TrainConfig config;
  Command command;
  add_train_options(app, config);
  app.get_formatter()->column_width(34);
  add_command_options(app, command);
  std::shared_ptr<dist::Communicator> world;  // set for training
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    REMIX_CHECK(command.resume.empty() || command.eval_only.empty(),
                "--resume and --eval-only cannot be combined");
    if (command.summary) return print_summary(config);
    if (!command.eval_only.empty())
      return evaluate_checkpoint(app, argc, argv, command.eval_only, config);
    world = dist::world_communicator();
    // Ranks other than 0 print nothing but errors (stderr).
    if (!world->is_root())
      REMIX_CHECK(std::freopen("/dev/null", "w", stdout) != nullptr,
                  "rank {}: cannot send its output to /dev/null", world->rank());
    return train(app, argc, argv, command, config, world);
  } catch (const CLI::ParseError& e) {
    if (world && world->world_size() > 1) world->abort(fmt::format("remix-train: {}", e.what()));
    return app.exit(e);
  } catch (const OutOfMemoryError& e) {
    return fail(world.get(), fmt::format("remix-train: out of memory: {}\nTry a smaller "
                                         "--batch-size or --precision bf16.",
                                         e.what()));
  } catch (const std::exception& e) {  // remix::Error and the others
    return fail(world.get(), fmt::format("remix-train: error: {}", e.what()));
  }
}
