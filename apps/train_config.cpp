// TrainConfig: command-line options, checks, automatic values and JSON (see train_config.h).
#include "apps/train_config.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "apps/option_range.h"
#include "augment/registry.h"
#include "nn/json_guard.h"
#include "nn/models/models.h"
#include "tensor/backend.h"

namespace remix::app {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    TrainConfig, model, pyramid_depth, pyramid_alpha, data, synthetic_train, synthetic_test,
    crop_flip, aug, cutout_size, mixup_alpha, cutmix_beta, cutmix_prob, rm_alpha, rm_omega,
    rm_interp, rm_rs, rm_hs, rm_cl, rm_shared_head, rm_keep_history, epochs, batch_size, lr,
    momentum, wd, nesterov, optimizer, schedule, milestones, gamma, warmup, label_smoothing, device,
    precision, seed, threads, compute_threads, out, log_every, max_steps_per_epoch, world_size)

namespace {

// The range of every numeric setting: shown by --help, checked by resolve_config().
constexpr OptionRange kPyramidDepth = integer_range(0, 1000);
constexpr OptionRange kPyramidAlpha = real_range(0, 1000, false, false);
constexpr OptionRange kSyntheticImages = integer_range(1, 1'000'000);
constexpr OptionRange kCutoutSize = integer_range(1, 1024);
constexpr OptionRange kBetaParameter = real_range(0, 1000, true, false);
constexpr OptionRange kProbability = real_range(0, 1, false, false);
constexpr OptionRange kRmAlpha = real_range(0, 1, true, false);
constexpr OptionRange kRmOmega = real_range(0, 1000, false, false);
constexpr OptionRange kEpochs = integer_range(1, 100'000);
constexpr OptionRange kBatchSize = integer_range(1, 65'536);
constexpr OptionRange kLearningRate = real_range(0, 100, true, false);
constexpr OptionRange kMomentum = real_range(0, 1, false, true);
constexpr OptionRange kWeightDecay = real_range(0, 1, false, true);
constexpr OptionRange kGamma = real_range(0, 1, true, false);
constexpr OptionRange kLabelSmoothing = real_range(0, 1, false, true);
constexpr OptionRange kLoaderThreads = integer_range(0, 64);
constexpr OptionRange kLogEvery = integer_range(1, 1'000'000'000);
constexpr OptionRange kMaxSteps = integer_range(0, 1'000'000'000);

// More compute threads than the machine runs at once only make every kernel wait for the
// threads that share a core; hardware_concurrency() is 0 when unknown.
OptionRange compute_threads_range() {
  const unsigned cores = std::thread::hardware_concurrency();
  return integer_range(0, cores > 0 ? cores : 256);
}

// CLI11 reads "-1" into an unsigned integer as 2^64 - 1; only digits are accepted.
const CLI::Validator kUnsignedInteger(
    [](std::string& text) {
      const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
      return digits ? std::string() : "expected a whole number in [0, 2^64 - 1], got " + text;
    },
    "UINT64");

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
  app.add_option("--pyramid-depth", c.pyramid_depth,
                 with_range("PyramidNet depth (0: the preset's)", kPyramidDepth))
      ->capture_default_str();
  app.add_option("--pyramid-alpha", c.pyramid_alpha,
                 with_range("PyramidNet widening (0: the preset's)", kPyramidAlpha))
      ->capture_default_str();
  app.add_option("--data", c.data,
                 "synthetic | cifar10:DIR | cifar100:DIR | folder:DIR (DIR/train and DIR/test "
                 "hold one sub-folder per class)")
      ->capture_default_str();
  app.add_option("--synthetic-train", c.synthetic_train,
                 with_range("Training images of the synthetic set", kSyntheticImages))
      ->capture_default_str();
  app.add_option("--synthetic-test", c.synthetic_test,
                 with_range("Test images of the synthetic set", kSyntheticImages))
      ->capture_default_str();
  app.add_flag("--crop-flip,!--no-crop-flip", c.crop_flip,
               "Random crop (4-pixel padding) and flip of training images (default: on)");
}

void add_augmentation_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--aug", c.aug, augmentation_help())
      ->check(CLI::IsMember(augment::augmentation_names()))
      ->capture_default_str();
  app.add_option("--cutout-size", c.cutout_size,
                 with_range("Cutout: side of the erased square (pixels)", kCutoutSize))
      ->capture_default_str();
  app.add_option("--mixup-alpha", c.mixup_alpha,
                 with_range("Mixup: lam ~ Beta(alpha, alpha)", kBetaParameter))
      ->capture_default_str();
  app.add_option("--cutmix-beta", c.cutmix_beta,
                 with_range("CutMix: lam ~ Beta(beta, beta)", kBetaParameter))
      ->capture_default_str();
  app.add_option("--cutmix-prob", c.cutmix_prob,
                 with_range("CutMix: probability of mixing a batch", kProbability))
      ->capture_default_str();
  app.add_option("--rm-alpha", c.rm_alpha,
                 with_range("RecursiveMix: largest area ratio of the box", kRmAlpha))
      ->capture_default_str();
  app.add_option("--rm-omega", c.rm_omega,
                 with_range("RecursiveMix: weight of the consistency loss", kRmOmega))
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
  app.add_option("--epochs", c.epochs, with_range("Training epochs", kEpochs))
      ->capture_default_str();
  app.add_option("--batch-size", c.batch_size, with_range("Images per step", kBatchSize))
      ->capture_default_str();
  app.add_option("--lr", c.lr, with_range("Base learning rate", kLearningRate))
      ->capture_default_str();
  app.add_option("--momentum", c.momentum, with_range("SGD momentum", kMomentum))
      ->capture_default_str();
  app.add_option("--wd", c.wd, with_range("Weight decay", kWeightDecay))->capture_default_str();
  app.add_flag("--nesterov", c.nesterov, "Nesterov momentum (default: off)");
  app.add_option("--optimizer", c.optimizer, "Optimizer")
      ->check(CLI::IsMember({"sgd", "adamw"}))
      ->capture_default_str();
  app.add_option("--schedule", c.schedule, "Learning-rate schedule (per epoch)")
      ->check(CLI::IsMember({"cosine", "multistep"}))
      ->capture_default_str();
  app.add_option("--milestones", c.milestones,
                 "Multistep: epochs where the rate is multiplied by --gamma, e.g. 150,225, "
                 "increasing, each in [1, --epochs - 1] (default: 50% and 75% of --epochs)")
      ->delimiter(',');
  app.add_option("--gamma", c.gamma, with_range("Multistep: factor at each milestone", kGamma))
      ->capture_default_str();
  app.add_option("--warmup", c.warmup, "Epochs of linear learning-rate warm-up [0, --epochs]")
      ->capture_default_str();
  app.add_option("--label-smoothing", c.label_smoothing,
                 with_range("Label smoothing of the targets", kLabelSmoothing))
      ->capture_default_str();
}

void add_run_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--device", c.device, "cpu | cuda | cuda:N | auto (cuda when present)")
      ->capture_default_str();
  app.add_option("--precision", c.precision,
                 "fp32 | bf16 | fp16 | auto (bf16 on CUDA, fp32 on the CPU, which has fp32 only)")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16", "auto"}))
      ->capture_default_str();
  app.add_option("--seed", c.seed,
                 "Seed of every random draw (model, data order, augmentation) [0, 2^64 - 1]")
      ->check(kUnsignedInteger)
      ->capture_default_str();
  app.add_option("--threads", c.threads,
                 with_range("Loader worker threads (0: batches made in the training thread)",
                            kLoaderThreads))
      ->capture_default_str();
  app.add_option("--compute-threads", c.compute_threads,
                 with_range("OpenMP threads of the CPU kernels (0: OMP_NUM_THREADS, else one per "
                            "core; at most the machine's hardware threads); on cores shared with "
                            "other work, 1 can be much faster",
                            compute_threads_range()))
      ->capture_default_str();
  app.add_option("--out", c.out,
                 "Output directory (default: runs/<model>-<aug>-<data>-<date>-<time>)");
  app.add_option(
         "--log-every", c.log_every,
         with_range("Batches between progress lines when the output is not a terminal", kLogEvery))
      ->capture_default_str();
  app.add_option("--max-steps-per-epoch", c.max_steps_per_epoch,
                 with_range("Stop each epoch after this many batches (0: whole epochs); for "
                            "quick trials",
                            kMaxSteps))
      ->capture_default_str();
}

void check_ranges(const TrainConfig& c) {
  check_in_range("--epochs", c.epochs, kEpochs);
  check_in_range("--batch-size", c.batch_size, kBatchSize);
  check_in_range("--lr", c.lr, kLearningRate);
  check_in_range("--momentum", c.momentum, kMomentum);
  check_in_range("--wd", c.wd, kWeightDecay);
  check_in_range("--gamma", c.gamma, kGamma);
  check_in_range("--warmup", c.warmup, integer_range(0, c.epochs));
  check_in_range("--label-smoothing", c.label_smoothing, kLabelSmoothing);
  check_in_range("--synthetic-train", c.synthetic_train, kSyntheticImages);
  check_in_range("--synthetic-test", c.synthetic_test, kSyntheticImages);
  check_in_range("--pyramid-depth", c.pyramid_depth, kPyramidDepth);
  check_in_range("--pyramid-alpha", c.pyramid_alpha, kPyramidAlpha);
  check_in_range("--threads", c.threads, kLoaderThreads);
  check_in_range("--compute-threads", c.compute_threads, compute_threads_range());
  check_in_range("--log-every", c.log_every, kLogEvery);
  check_in_range("--max-steps-per-epoch", c.max_steps_per_epoch, kMaxSteps);
  for (size_t i = 0; i < c.milestones.size(); ++i)
    REMIX_CHECK(c.milestones[i] > 0 && c.milestones[i] < c.epochs &&
                    (i == 0 || c.milestones[i] > c.milestones[i - 1]),
                "--milestones must increase and lie between 0 and --epochs ({}), got {}", c.epochs,
                fmt::join(c.milestones, ","));
}

void check_augmentation_ranges(const TrainConfig& c) {
  check_in_range("--cutout-size", c.cutout_size, kCutoutSize);
  check_in_range("--mixup-alpha", c.mixup_alpha, kBetaParameter);
  check_in_range("--cutmix-beta", c.cutmix_beta, kBetaParameter);
  check_in_range("--cutmix-prob", c.cutmix_prob, kProbability);
  check_in_range("--rm-alpha", c.rm_alpha, kRmAlpha);
  check_in_range("--rm-omega", c.rm_omega, kRmOmega);
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

// Equality of JSON values, except that integers compare exactly: nlohmann casts one side to the
// other's type, so that -1 equals 2^64 - 1.
bool same_value(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_array() && b.is_array())
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(),
                      [](const auto& x, const auto& y) { return same_value(x, y); });
  if (!a.is_number_integer() || !b.is_number_integer()) return a == b;
  const bool a_negative = !a.is_number_unsigned() && a.get<int64_t>() < 0;
  const bool b_negative = !b.is_number_unsigned() && b.get<int64_t>() < 0;
  if (a_negative || b_negative)
    return a_negative == b_negative && a.get<int64_t>() == b.get<int64_t>();
  return a.get<uint64_t>() == b.get<uint64_t>();
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
  REMIX_CHECK(c.world_size >= 1, "world_size (the number of processes) must be at least 1, got {}",
              c.world_size);
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
  // For readers (derived). A product beyond int64, which only a corrupt config.json can ask
  // for, is left out, so that reading that file back is an error.
  int64_t global_batch = 0;
  if (!__builtin_mul_overflow(config.world_size, config.batch_size, &global_batch))
    json["global_batch_size"] = global_batch;
  return json;
}

TrainConfig config_from_json(const nlohmann::json& json) {
  REMIX_CHECK(json.is_object(), "a training config must be a JSON object, got {}",
              json.type_name());
  const nlohmann::json known = to_json(TrainConfig{});
  for (const auto& [key, value] : json.items()) {
    REMIX_CHECK(known.contains(key), "unknown training setting '{}' in the config", key);
    // Converting a fraction to an integer setting would cut it, and one beyond the integer's
    // range is undefined behaviour: whole numbers only (the milestones are the one list).
    const bool wants_integers = known[key].is_number_integer() || known[key].is_array();
    const bool integers = value.is_array()
                              ? std::all_of(value.begin(), value.end(),
                                            [](const auto& v) { return v.is_number_integer(); })
                              : value.is_number_integer();
    REMIX_CHECK(!wants_integers || integers, "training setting '{}' must be {}, got {}", key,
                value.is_array() ? "a list of whole numbers" : "a whole number", value.dump());
  }
  TrainConfig config;
  try {
    config = json.get<TrainConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw_error(fmt::format("a training setting has the wrong type: {}", e.what()));
  }
  // A number that does not fit its setting's type converts silently (-1 into the unsigned
  // seed, 2.5 into the integer epochs, 1e10 into the int thread count): writing the config
  // back shows it.
  const nlohmann::json read_back = to_json(config);
  for (const auto& [key, value] : json.items())
    REMIX_CHECK(same_value(read_back[key], value),
                "training setting '{}' cannot be {} (read as {})", key, value.dump(),
                read_back[key].dump());
  return config;
}

TrainConfig read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REMIX_CHECK(in.good(), "cannot read the training config {}", path);
  std::ostringstream text;
  text << in.rdbuf();
  REMIX_CHECK(!in.bad(), "cannot read the training config {}", path);
  const nlohmann::json json = nn::parse_json(text.str(), path);
  try {
    return config_from_json(json);
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
