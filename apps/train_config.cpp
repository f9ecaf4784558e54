// TrainConfig: command-line options, checks, automatic values and JSON (see train_config.h).
#include "apps/train_config.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <variant>

#include "augment/registry.h"
#include "nn/json_guard.h"
#include "nn/models/models.h"
#include "nn/option_range.h"
#include "tensor/backend.h"

namespace remix::app {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    TrainConfig, model, pyramid_depth, pyramid_alpha, data, synthetic_train, synthetic_test,
    crop_flip, aug, augment, epochs, batch_size, lr, momentum, wd, nesterov, optimizer, schedule,
    milestones, gamma, warmup, label_smoothing, device, precision, seed, threads, compute_threads,
    out, log_every, max_steps_per_epoch, world_size)

namespace {

// Overloaded lambdas for std::visit.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;  // clang before 17 deduces no aggregate's template arguments

// The range of every numeric setting: shown by --help, checked by resolve_config().
constexpr OptionRange kPyramidDepth = integer_range(0, 1000);
constexpr OptionRange kPyramidAlpha = real_range(0, 1000, false, false);
constexpr OptionRange kSyntheticImages = integer_range(1, 1'000'000);
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

// One augmentation setting as an option, from its declaration in augment/options.cpp.
void add_augment_setting(CLI::App& app, augment::AugmentOptions& options,
                         const augment::AugmentSetting& s) {
  const std::string flag = augment::flag_of(s);
  const auto number = [&](auto field) {
    app.add_option(flag, options.*field, with_range(s.help, s.range))->capture_default_str();
  };
  const auto on_off = [&](bool augment::AugmentOptions::*field) {
    const std::string names = s.off_flag.empty() ? flag : flag + ",!" + s.off_flag;
    const bool on = augment::AugmentOptions{}.*field;
    app.add_flag(names, options.*field, fmt::format("{} (default: {})", s.help, on ? "on" : "off"));
  };
  const auto interpolation = [&](Interpolation augment::AugmentOptions::*field) {
    const auto set = [&options, field](const std::string& name) {
      options.*field = augment::interpolation_from_name(name);
    };
    app.add_option_function<std::string>(flag, set, s.help)
        ->check(CLI::IsMember({"nearest", "bilinear"}))
        ->default_str(augment::interpolation_name(options.*field));
  };
  std::visit(Overloaded{number, on_off, interpolation}, s.field);
}

void add_augmentation_options(CLI::App& app, TrainConfig& c) {
  app.add_option("--aug", c.aug, augmentation_help())
      ->check(CLI::IsMember(augment::augmentation_names()))
      ->capture_default_str();
  for (const augment::AugmentSetting& setting : augment::augment_settings())
    add_augment_setting(app, c.augment, setting);
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

// Every key of `json` is a setting of `known` (the defaults written out, nested objects
// included), and integer settings hold whole numbers: converting a fraction would cut it, and
// one beyond the integer's range is undefined behaviour (the milestones are the one list).
void check_keys_and_numbers(const nlohmann::json& json, const nlohmann::json& known,
                            const std::string& prefix) {
  for (const auto& [key, value] : json.items()) {
    const std::string name = prefix + key;
    REMIX_CHECK(known.contains(key), "unknown training setting '{}' in the config", name);
    if (known[key].is_object()) {
      REMIX_CHECK(value.is_object(), "training setting '{}' must be an object of settings, got {}",
                  name, value.dump());
      check_keys_and_numbers(value, known[key], name + ".");
      continue;
    }
    const bool wants_integers = known[key].is_number_integer() || known[key].is_array();
    const bool integers = value.is_array()
                              ? std::all_of(value.begin(), value.end(),
                                            [](const auto& v) { return v.is_number_integer(); })
                              : value.is_number_integer();
    REMIX_CHECK(!wants_integers || integers, "training setting '{}' must be {}, got {}", name,
                value.is_array() ? "a list of whole numbers" : "a whole number", value.dump());
  }
}

// A number that does not fit its setting's type converts silently (-1 into the unsigned seed,
// 2.5 into the integer epochs, 1e10 into the int thread count): writing the config back shows it.
void check_read_back(const nlohmann::json& json, const nlohmann::json& read_back,
                     const std::string& prefix) {
  for (const auto& [key, value] : json.items()) {
    if (value.is_object()) {
      check_read_back(value, read_back[key], prefix + key + ".");
      continue;
    }
    REMIX_CHECK(same_value(read_back[key], value),
                "training setting '{}' cannot be {} (read as {})", prefix + key, value.dump(),
                read_back[key].dump());
  }
}

// Configs written before the augmentation settings moved into their "augment" object hold them
// at the top level; they are read as if nested, so that older runs still resume.
nlohmann::json with_augment_settings_nested(nlohmann::json json) {
  if (json.contains("augment") && !json["augment"].is_object()) return json;  // refused later
  for (const augment::AugmentSetting& setting : augment::augment_settings()) {
    if (!json.contains(setting.key)) continue;
    REMIX_CHECK(!json.contains("augment") || !json["augment"].contains(setting.key),
                "training setting '{}' is given twice: at the top level and in \"augment\"",
                setting.key);
    json["augment"][setting.key] = json[setting.key];
    json.erase(setting.key);
  }
  return json;
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
  augment::check_settings(c.augment);
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
  const nlohmann::json settings = with_augment_settings_nested(json);
  check_keys_and_numbers(settings, to_json(TrainConfig{}), "");
  TrainConfig config;
  try {
    config = settings.get<TrainConfig>();
  } catch (const nlohmann::json::exception& e) {
    throw_error(fmt::format("a training setting has the wrong type: {}", e.what()));
  }
  check_read_back(settings, to_json(config), "");
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
