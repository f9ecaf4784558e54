// TrainConfig: command-line options, checks, automatic values and JSON (see train_config.h).
#include "apps/train_config.h"

#include <chrono>
#include <ctime>
#include <fstream>

#include "augment/registry.h"
#include "nn/models/models.h"
#include "tensor/backend.h"

namespace remix::app {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    TrainConfig, model, pyramid_depth, pyramid_alpha, data, synthetic_train, synthetic_test,
    crop_flip, aug, cutout_size, mixup_alpha, cutmix_beta, cutmix_prob, rm_alpha, rm_omega,
    rm_interp, rm_rs, rm_hs, rm_cl, rm_shared_head, rm_keep_history, epochs, batch_size, lr,
    momentum, wd, nesterov, optimizer, schedule, milestones, gamma, warmup, label_smoothing, device,
    precision, seed, threads, compute_threads, out, log_every, max_steps_per_epoch)

namespace {

std::string augmentation_help() {
  std::string help = "Batch augmentation:";
  for (const auto& entry : augment::registered_augmentations())
    help += fmt::format("\n  {:<8} {}", entry.name, entry.description);
  return help;
}

void add_model_and_data_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--model", c.model, "Architecture")
      ->check(CLI::IsMember(nn::model_names()))
      ->capture_default_str();
  app.add_option("--pyramid-depth", c.pyramid_depth, "PyramidNet depth (0: the preset's)")
      ->capture_default_str();
  app.add_option("--pyramid-alpha", c.pyramid_alpha, "PyramidNet widening (0: the preset's)")
      ->capture_default_str();
  app.add_option("--data", c.data,
                 "synthetic | cifar10:DIR | cifar100:DIR | folder:DIR (DIR/train and DIR/test "
                 "hold one sub-folder per class)")
      ->capture_default_str();
  app.add_option("--synthetic-train", c.synthetic_train, "Training images of the synthetic set")
      ->capture_default_str();
  app.add_option("--synthetic-test", c.synthetic_test, "Test images of the synthetic set")
      ->capture_default_str();
  app.add_flag("--crop-flip,!--no-crop-flip", c.crop_flip,
               "Random crop (4-pixel padding) and flip of training images (default: on)");
}

void add_augmentation_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--aug", c.aug, augmentation_help())
      ->check(CLI::IsMember(augment::augmentation_names()))
      ->capture_default_str();
  app.add_option("--cutout-size", c.cutout_size, "Cutout: side of the erased square (pixels)")
      ->capture_default_str();
  app.add_option("--mixup-alpha", c.mixup_alpha, "Mixup: lam ~ Beta(alpha, alpha)")
      ->capture_default_str();
  app.add_option("--cutmix-beta", c.cutmix_beta, "CutMix: lam ~ Beta(beta, beta)")
      ->capture_default_str();
  app.add_option("--cutmix-prob", c.cutmix_prob, "CutMix: probability of mixing a batch")
      ->capture_default_str();
  app.add_option("--rm-alpha", c.rm_alpha, "RecursiveMix: largest area ratio of the box")
      ->capture_default_str();
  app.add_option("--rm-omega", c.rm_omega, "RecursiveMix: weight of the consistency loss")
      ->capture_default_str();
  app.add_option("--rm-interp", c.rm_interp, "RecursiveMix: resize of the historical batch")
      ->check(CLI::IsMember({"nearest", "bilinear"}))
      ->capture_default_str();
  app.add_flag("--rm-rs,!--rm-no-rs", c.rm_rs,
               "RecursiveMix: resize the whole historical image into the box; --rm-no-rs cuts "
               "the box region as CutMix does (default: on)");
  app.add_flag("--rm-hs,!--rm-no-hs", c.rm_hs,
               "RecursiveMix: paste from the previous step's batch; --rm-no-hs pastes from a "
               "shuffled copy of the current batch (default: on)");
  app.add_flag("--rm-cl,!--rm-no-cl", c.rm_cl,
               "RecursiveMix: the ROI consistency loss (default: on)");
  app.add_flag("--rm-shared-head", c.rm_shared_head,
               "RecursiveMix: the ROI head shares fc instead of its own fc_roi (default: off)");
  app.add_flag("--rm-keep-history", c.rm_keep_history,
               "RecursiveMix: keep the history across epochs instead of resetting it at each "
               "epoch start as the reference does (default: off)");
}

void add_optimisation_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--epochs", c.epochs, "Training epochs")->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "Images per step")->capture_default_str();
  app.add_option("--lr", c.lr, "Base learning rate")->capture_default_str();
  app.add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str();
  app.add_option("--wd", c.wd, "Weight decay")->capture_default_str();
  app.add_flag("--nesterov", c.nesterov, "Nesterov momentum (default: off)");
  app.add_option("--optimizer", c.optimizer, "Optimizer")
      ->check(CLI::IsMember({"sgd", "adamw"}))
      ->capture_default_str();
  app.add_option("--schedule", c.schedule, "Learning-rate schedule (per epoch)")
      ->check(CLI::IsMember({"cosine", "multistep"}))
      ->capture_default_str();
  app.add_option("--milestones", c.milestones,
                 "Multistep: epochs where the rate is multiplied by --gamma, e.g. 150,225 "
                 "(default: 50% and 75% of --epochs)")
      ->delimiter(',');
  app.add_option("--gamma", c.gamma, "Multistep: factor at each milestone")->capture_default_str();
  app.add_option("--warmup", c.warmup, "Epochs of linear learning-rate warm-up")
      ->capture_default_str();
  app.add_option("--label-smoothing", c.label_smoothing, "Label smoothing of the targets")
      ->capture_default_str();
}

void add_run_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--device", c.device, "cpu | cuda | cuda:N | auto (cuda when present)")
      ->capture_default_str();
  app.add_option("--precision", c.precision,
                 "fp32 | bf16 | fp16 | auto (bf16 on CUDA, fp32 on the CPU, which has fp32 only)")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16", "auto"}))
      ->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of every random draw (model, data order, augmentation)")
      ->capture_default_str();
  app.add_option("--threads", c.threads,
                 "Loader worker threads (0: batches made in the training thread)")
      ->capture_default_str();
  app.add_option("--compute-threads", c.compute_threads,
                 "OpenMP threads of the CPU kernels (0: OMP_NUM_THREADS, else one per core); on "
                 "cores shared with other work, 1 can be much faster")
      ->capture_default_str();
  app.add_option("--out", c.out,
                 "Output directory (default: runs/<model>-<aug>-<data>-<date>-<time>)");
  app.add_option("--log-every", c.log_every,
                 "Batches between progress lines when the output is not a terminal")
      ->capture_default_str();
  app.add_option("--max-steps-per-epoch", c.max_steps_per_epoch,
                 "Stop each epoch after this many batches (0: whole epochs); for quick trials")
      ->capture_default_str();
}

void check_ranges(const TrainConfig& c) {
  REMIX_CHECK(c.epochs > 0, "--epochs must be positive, got {}", c.epochs);
  REMIX_CHECK(c.batch_size > 0, "--batch-size must be positive, got {}", c.batch_size);
  REMIX_CHECK(c.lr > 0, "--lr must be positive, got {}", c.lr);
  REMIX_CHECK(c.momentum >= 0 && c.momentum < 1, "--momentum must be in [0, 1), got {}",
              c.momentum);
  REMIX_CHECK(c.wd >= 0, "--wd must be >= 0, got {}", c.wd);
  REMIX_CHECK(c.gamma > 0, "--gamma must be positive, got {}", c.gamma);
  REMIX_CHECK(c.warmup >= 0 && c.warmup <= c.epochs, "--warmup must be in [0, --epochs], got {}",
              c.warmup);
  REMIX_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1,
              "--label-smoothing must be in [0, 1), got {}", c.label_smoothing);
  REMIX_CHECK(c.synthetic_train > 0 && c.synthetic_test > 0,
              "--synthetic-train and --synthetic-test must be positive, got {} and {}",
              c.synthetic_train, c.synthetic_test);
  REMIX_CHECK(c.pyramid_depth >= 0 && c.pyramid_alpha >= 0,
              "--pyramid-depth and --pyramid-alpha must be >= 0 (0: the preset's)");
  REMIX_CHECK(c.threads >= 0, "--threads must be >= 0, got {}", c.threads);
  REMIX_CHECK(c.compute_threads >= 0, "--compute-threads must be >= 0, got {}", c.compute_threads);
  REMIX_CHECK(c.log_every > 0, "--log-every must be positive, got {}", c.log_every);
  REMIX_CHECK(c.max_steps_per_epoch >= 0, "--max-steps-per-epoch must be >= 0, got {}",
              c.max_steps_per_epoch);
  for (size_t i = 0; i < c.milestones.size(); ++i)
    REMIX_CHECK(c.milestones[i] > 0 && c.milestones[i] < c.epochs &&
                    (i == 0 || c.milestones[i] > c.milestones[i - 1]),
                "--milestones must increase and lie between 0 and --epochs ({}), got {}", c.epochs,
                fmt::join(c.milestones, ","));
}

void check_augmentation_ranges(const TrainConfig& c) {
  REMIX_CHECK(c.cutout_size > 0, "--cutout-size must be positive, got {}", c.cutout_size);
  REMIX_CHECK(c.mixup_alpha > 0, "--mixup-alpha must be positive, got {}", c.mixup_alpha);
  REMIX_CHECK(c.cutmix_beta > 0, "--cutmix-beta must be positive, got {}", c.cutmix_beta);
  REMIX_CHECK(c.cutmix_prob >= 0 && c.cutmix_prob <= 1, "--cutmix-prob must be in [0, 1], got {}",
              c.cutmix_prob);
  REMIX_CHECK(c.rm_alpha > 0 && c.rm_alpha <= 1, "--rm-alpha must be in (0, 1], got {}",
              c.rm_alpha);
  REMIX_CHECK(c.rm_omega >= 0, "--rm-omega must be >= 0, got {}", c.rm_omega);
}

void check_names(const TrainConfig& c) {
  const auto& models = nn::model_names();
  REMIX_CHECK(std::find(models.begin(), models.end(), c.model) != models.end(),
              "unknown --model '{}'; expected one of {}", c.model, fmt::join(models, ", "));
  const auto augs = augment::augmentation_names();
  REMIX_CHECK(std::find(augs.begin(), augs.end(), c.aug) != augs.end(),
              "unknown --aug '{}'; expected one of {}", c.aug, fmt::join(augs, ", "));
  REMIX_CHECK(c.optimizer == "sgd" || c.optimizer == "adamw",
              "--optimizer must be sgd or adamw, got '{}'", c.optimizer);
  REMIX_CHECK(c.schedule == "cosine" || c.schedule == "multistep",
              "--schedule must be cosine or multistep, got '{}'", c.schedule);
  REMIX_CHECK(c.rm_interp == "nearest" || c.rm_interp == "bilinear",
              "--rm-interp must be nearest or bilinear, got '{}'", c.rm_interp);
}

void resolve_device_and_precision(TrainConfig& c) {
  if (c.device == "auto") c.device = cuda_available() ? "cuda:0" : "cpu";
  const Device device = parse_device(c.device);
  c.device = to_string(device);
  if (device.is_cuda())
    REMIX_CHECK(device.index < cuda_device_count(), "--device {}: this {} (use --device cpu)",
                c.device,
                cuda_device_count() == 0 ? "machine has no usable CUDA device or build has no CUDA"
                                         : "device index is out of range");
  if (c.precision == "auto") c.precision = device.is_cuda() ? "bf16" : "fp32";
  REMIX_CHECK(c.precision == "fp32" || c.precision == "bf16" || c.precision == "fp16",
              "--precision must be fp32, bf16, fp16 or auto, got '{}'", c.precision);
  REMIX_CHECK(device.is_cuda() || c.precision == "fp32",
              "--precision {} needs a CUDA device: the CPU computes in fp32 only (use --precision "
              "fp32 or auto)",
              c.precision);
}

std::string data_label(const std::string& data) {
  const size_t colon = data.find(':');
  return colon == std::string::npos ? data : data.substr(0, colon);
}

std::string timestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%d-%H%M%S", &local);
  return text;
}

// CLI11 prints a negated flag as "--rm-no-rs{false}"; the help text already says which name
// turns the setting off, so the "{false}" is dropped.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* option, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(option, is_positional);
    for (size_t at; (at = name.find("{false}")) != std::string::npos;) name.erase(at, 7);
    return name;
  }
};

}  // namespace

void add_train_options(CLI::App& app, TrainConfig& config) {
  app.formatter(std::make_shared<HelpFormatter>());
  add_model_and_data_options(app, config);
  add_augmentation_options(app, config);
  add_optimisation_options(app, config);
  add_run_options(app, config);
}

void resolve_config(TrainConfig& c) {
  check_names(c);
  check_ranges(c);
  check_augmentation_ranges(c);
  resolve_device_and_precision(c);
  if (c.schedule == "multistep" && c.milestones.empty()) {
    c.milestones = {c.epochs / 2, c.epochs * 3 / 4};
    std::erase_if(c.milestones, [&](int64_t m) { return m <= 0 || m >= c.epochs; });
    c.milestones.erase(std::unique(c.milestones.begin(), c.milestones.end()), c.milestones.end());
  }
  if (c.out.empty())
    c.out = fmt::format("runs/{}-{}-{}-{}", c.model, c.aug, data_label(c.data), timestamp());
}

nlohmann::json to_json(const TrainConfig& config) {
  nlohmann::json json;
  to_json(json, config);
  return json;
}

TrainConfig config_from_json(const nlohmann::json& json) {
  REMIX_CHECK(json.is_object(), "a training config must be a JSON object, got {}",
              json.type_name());
  const nlohmann::json known = to_json(TrainConfig{});
  for (const auto& [key, value] : json.items())
    REMIX_CHECK(known.contains(key), "unknown training setting '{}' in the config", key);
  try {
    return json.get<TrainConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw_error(fmt::format("a training setting has the wrong type: {}", e.what()));
  }
}

TrainConfig read_config_file(const std::string& path) {
  std::ifstream in(path);
  REMIX_CHECK(in.good(), "cannot read the training config {}", path);
  try {
    return config_from_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::parse_error& e) {
    throw_error(fmt::format("{} is not valid JSON: {}", path, e.what()));
  } catch (const Error& e) {
    throw_error(fmt::format("{}: {}", path, e.what()));
  }
}

Device config_device(const TrainConfig& config) {
  return parse_device(config.device);
}

DType compute_dtype(const TrainConfig& config) {
  if (config.precision == "bf16") return DType::bf16;
  if (config.precision == "fp16") return DType::f16;
  return DType::f32;
}

}  // namespace remix::app
