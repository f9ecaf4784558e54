// TrainConfig: command-line parsing, checks, automatic values and the JSON round trip.
#include "apps/train_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <thread>

#include "tensor/backend.h"
#include "tests/apps/apps_test_support.h"

namespace remix::app {
namespace {

TrainConfig parse(std::vector<std::string> words) {
  CLI::App app;
  TrainConfig config;
  add_train_options(app, config);
  std::reverse(words.begin(), words.end());  // CLI11 takes the words in reverse order
  app.parse(words);
  return config;
}

::testing::AssertionResult resolve_fails_with(TrainConfig config, const std::string& words) {
  try {
    resolve_config(config);
  } catch (const Error& e) {
    if (std::string(e.what()).find(words) != std::string::npos)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the message lacks \"" << words << "\": " << e.what();
  }
  return ::testing::AssertionFailure() << "resolve_config accepted the config";
}

::testing::AssertionResult json_fails_with(const std::string& text, const std::string& words) {
  try {
    config_from_json(nlohmann::json::parse(text));
  } catch (const Error& e) {
    if (std::string(e.what()).find(words) != std::string::npos)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the message lacks \"" << words << "\": " << e.what();
  }
  return ::testing::AssertionFailure() << "config_from_json accepted it";
}

TEST(TrainConfig, CommandLineSetsValuesListsAndNegatedFlags) {
  const TrainConfig c = parse({"--model", "resnet56", "--lr", "0.05", "--milestones", "3,6",
                               "--rm-no-rs", "--rm-no-cl", "--no-crop-flip", "--nesterov", "--aug",
                               "rm", "--rm-interp", "bilinear"});
  EXPECT_EQ(c.model, "resnet56");
  EXPECT_EQ(c.lr, 0.05);
  EXPECT_EQ(c.milestones, (std::vector<int64_t>{3, 6}));
  EXPECT_FALSE(c.augment.rm_resize);
  EXPECT_TRUE(c.augment.rm_history);
  EXPECT_FALSE(c.augment.rm_consistency);
  EXPECT_FALSE(c.crop_flip);
  EXPECT_TRUE(c.nesterov);
  EXPECT_EQ(c.aug, "rm");
  EXPECT_EQ(c.augment.rm_interpolation, Interpolation::bilinear);
}

TEST(TrainConfig, CommandLineRejectsUnknownNames) {
  EXPECT_THROW(parse({"--model", "resnet7"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--aug", "mosaic"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--precision", "fp8"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--no-such-option"}), CLI::ExtrasError);
}

TEST(TrainConfig, ParsingAgainOnlyWritesTheOptionsGiven) {
  // --resume relies on this: the saved config is loaded, then the command line overrides it.
  CLI::App app;
  TrainConfig config;
  add_train_options(app, config);
  app.parse(std::vector<std::string>{"7", "--epochs"});
  config.lr = 0.25;
  config.model = "resnet32";
  app.clear();
  app.parse(std::vector<std::string>{"9", "--epochs"});
  EXPECT_EQ(config.epochs, 9);
  EXPECT_EQ(config.lr, 0.25);
  EXPECT_EQ(config.model, "resnet32");
}

TEST(TrainConfig, ResolveRejectsOutOfRangeValuesNamingTheOption) {
  TrainConfig c;
  c.device = "cpu";
  c.lr = 0;
  EXPECT_TRUE(resolve_fails_with(c, "--lr must be in (0, 100], got 0"));
  c.lr = 0.1;
  c.batch_size = 0;
  EXPECT_TRUE(resolve_fails_with(c, "--batch-size must be in [1, 65536], got 0"));
  c.batch_size = 128;
  c.label_smoothing = 1.5;
  EXPECT_TRUE(resolve_fails_with(c, "--label-smoothing must be in [0, 1), got 1.5"));
  c.label_smoothing = 0;
  c.momentum = std::nan("");
  EXPECT_TRUE(resolve_fails_with(c, "--momentum must be in [0, 1), got nan"));
  c.momentum = 0.9;
  c.milestones = {5, 3};
  EXPECT_TRUE(resolve_fails_with(c, "--milestones must increase"));
}

// Every numeric option, a value outside its range as a user would type it, and the range that
// --help shows and the error repeats.
struct OutOfRange {
  const char* option;
  const char* value;
  const char* range;
};

constexpr OutOfRange kOutOfRange[] = {
    {"--pyramid-depth", "-1", "[0, 1000]"},
    {"--pyramid-alpha", "1e9", "[0, 1000]"},
    {"--synthetic-train", "0", "[1, 1000000]"},
    {"--synthetic-test", "2000000", "[1, 1000000]"},
    {"--cutout-size", "0", "[1, 1024]"},
    {"--mixup-alpha", "0", "(0, 1000]"},
    {"--cutmix-beta", "-2", "(0, 1000]"},
    {"--cutmix-prob", "1.5", "[0, 1]"},
    {"--rm-alpha", "0", "(0, 1]"},
    {"--rm-omega", "inf", "[0, 1000]"},
    {"--epochs", "0", "[1, 100000]"},
    {"--batch-size", "9223372036854775807", "[1, 65536]"},
    {"--lr", "nan", "(0, 100]"},
    {"--momentum", "1", "[0, 1)"},
    {"--wd", "-0.1", "[0, 1)"},
    {"--gamma", "2", "(0, 1]"},
    {"--label-smoothing", "1", "[0, 1)"},
    {"--threads", "500", "[0, 64]"},
    {"--log-every", "0", "[1, 1000000000]"},
    {"--max-steps-per-epoch", "-3", "[0, 1000000000]"},
};

TEST(TrainConfig, EveryNumericOptionShowsItsRangeAndRefusesValuesOutsideIt) {
  CLI::App app;
  TrainConfig defaults;
  add_train_options(app, defaults);
  const std::string help = app.help();
  for (const OutOfRange& c : kOutOfRange) {
    SCOPED_TRACE(c.option);
    const size_t at = help.find(c.option);
    ASSERT_NE(at, std::string::npos);
    EXPECT_NE(help.find(c.range, at), std::string::npos) << "--help lacks the range";
    TrainConfig config = parse({c.option, c.value, "--device", "cpu"});
    EXPECT_TRUE(
        resolve_fails_with(config, fmt::format("{} must be in {}, got", c.option, c.range)));
  }
}

TEST(TrainConfig, ThreadCountsAreBoundedAndComputeThreadsByTheMachine) {
  TrainConfig threads = parse({"--threads", "64", "--device", "cpu"});
  EXPECT_NO_THROW(resolve_config(threads));
  const std::string cores = std::to_string(std::thread::hardware_concurrency());
  EXPECT_TRUE(resolve_fails_with(parse({"--compute-threads", "10000", "--device", "cpu"}),
                                 "--compute-threads must be in [0, " + cores + "], got 10000"));
  TrainConfig all_cores = parse({"--compute-threads", cores, "--device", "cpu"});
  EXPECT_NO_THROW(resolve_config(all_cores));
}

TEST(TrainConfig, TheSeedRefusesNegativeNumbersInsteadOfWrappingThem) {
  EXPECT_THROW(parse({"--seed", "-1"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--seed", "1.5"}), CLI::ValidationError);
  EXPECT_EQ(parse({"--seed", "18446744073709551615"}).seed, 18446744073709551615u);
}

TEST(TrainConfig, WarmupIsBoundedByTheEpochs) {
  TrainConfig c = parse({"--epochs", "5", "--warmup", "6", "--device", "cpu"});
  EXPECT_TRUE(resolve_fails_with(c, "--warmup must be in [0, 5], got 6"));
}

TEST(TrainConfig, TheCpuRefusesHalfPrecisionWithAClearMessage) {
  TrainConfig c;
  c.device = "cpu";
  c.precision = "bf16";
  EXPECT_TRUE(resolve_fails_with(c, "the CPU computes in fp32 only"));
}

TEST(TrainConfig, AutoMeansCudaAndBf16WhenAGpuIsPresentElseCpuAndFp32) {
  TrainConfig c;
  resolve_config(c);
  EXPECT_EQ(c.device, cuda_available() ? "cuda:0" : "cpu");
  EXPECT_EQ(c.precision, cuda_available() ? "bf16" : "fp32");
  EXPECT_EQ(compute_dtype(c), cuda_available() ? DType::bf16 : DType::f32);
  EXPECT_TRUE(c.out.starts_with("runs/resnet20-none-synthetic-")) << c.out;
}

TEST(TrainConfig, MultistepMilestonesDefaultToHalfAndThreeQuartersOfTheEpochs) {
  TrainConfig c;
  c.device = "cpu";
  c.schedule = "multistep";
  c.epochs = 300;
  resolve_config(c);
  EXPECT_EQ(c.milestones, (std::vector<int64_t>{150, 225}));
}

TEST(TrainConfig, JsonRoundTripKeepsEverySetting) {
  TrainConfig c = parse({"--model", "pyramidnet164", "--pyramid-alpha", "48", "--rm-no-hs",
                         "--seed", "12345678901", "--milestones", "10,20", "--out", "x/y"});
  const TrainConfig back = config_from_json(to_json(c));
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(back.seed, 12345678901u);
  EXPECT_FALSE(back.augment.rm_history);
}

TEST(TrainConfig, JsonRejectsUnknownKeysAndWrongTypes) {
  nlohmann::json j = to_json(TrainConfig{});
  j["learning_rate"] = 0.1;
  EXPECT_THROW(config_from_json(j), Error);
  j = to_json(TrainConfig{});
  j["epochs"] = "many";
  EXPECT_THROW(config_from_json(j), Error);
  EXPECT_EQ(config_from_json(nlohmann::json{{"epochs", 3}}).epochs, 3);  // others default
}

TEST(TrainConfig, JsonRefusesNumbersThatDoNotFitTheirSetting) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"seed": -1})", "'seed' cannot be -1"},
      {R"({"batch_size": 18446744073709551615})", "'batch_size' cannot be 18446744073709551615"},
      {R"({"threads": 10000000000})", "'threads' cannot be 10000000000"},
      {R"({"epochs": 2.5})", "'epochs' must be a whole number, got 2.5"},
      {R"({"threads": 1e300})", "'threads' must be a whole number"},
      {R"({"milestones": [3, 1e300]})", "'milestones' must be a list of whole numbers"}};
  for (const auto& [text, expected] : cases)
    EXPECT_TRUE(json_fails_with(text, expected)) << text;
}

TEST(TrainConfig, EveryAugmentationSettingIsAnOptionNamedByItsDeclaration) {
  CLI::App app;
  TrainConfig defaults;
  add_train_options(app, defaults);
  const std::string help = app.help();
  for (const augment::AugmentSetting& setting : augment::augment_settings()) {
    SCOPED_TRACE(setting.key);
    EXPECT_NE(help.find(augment::flag_of(setting)), std::string::npos);
    EXPECT_NE(help.find(setting.help), std::string::npos);
    if (!setting.off_flag.empty()) {
      EXPECT_NE(help.find(setting.off_flag), std::string::npos);
    }
    if (setting.range.max > setting.range.min) {
      EXPECT_NE(help.find(setting.help + " " + setting.range.text()), std::string::npos);
    }
  }
  const TrainConfig c = parse({"--cutout-size", "8", "--rm-omega", "0.25", "--rm-keep-history",
                               "--rm-shared-head", "--rm-no-hs", "--rm-interp", "bilinear"});
  EXPECT_EQ(c.augment.cutout_size, 8);
  EXPECT_EQ(c.augment.rm_omega, 0.25);
  EXPECT_TRUE(c.augment.rm_keep_history);
  EXPECT_TRUE(c.augment.rm_shared_head);
  EXPECT_FALSE(c.augment.rm_history);
  EXPECT_EQ(c.augment.rm_interpolation, Interpolation::bilinear);
  EXPECT_THROW(parse({"--rm-interp", "cubic"}), CLI::ValidationError);
}

TEST(TrainConfig, JsonHoldsTheAugmentationSettingsInTheirOwnObject) {
  TrainConfig c;
  c.augment.rm_omega = 0.1;
  c.augment.rm_interpolation = Interpolation::bilinear;
  const nlohmann::json j = to_json(c);
  EXPECT_FALSE(j.contains("rm_omega"));
  ASSERT_TRUE(j.contains("augment"));
  EXPECT_EQ(j["augment"].size(), augment::augment_settings().size());
  EXPECT_EQ(j["augment"]["rm_omega"], 0.1);
  EXPECT_EQ(j["augment"]["rm_interp"], "bilinear");
  const TrainConfig back = config_from_json(j);
  EXPECT_EQ(back.augment.rm_omega, 0.1);
  EXPECT_EQ(back.augment.rm_interpolation, Interpolation::bilinear);
}

TEST(TrainConfig, JsonFromBeforeTheAugmentObjectStillReads) {
  const TrainConfig c = config_from_json(
      nlohmann::json::parse(R"({"epochs": 3, "rm_omega": 0.2, "rm_rs": false, "rm_interp": "bilinear"})"));
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.augment.rm_omega, 0.2);
  EXPECT_FALSE(c.augment.rm_resize);
  EXPECT_EQ(c.augment.rm_interpolation, Interpolation::bilinear);
}

TEST(TrainConfig, JsonChecksTheAugmentationSettingsLikeTheOthers) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"augment": {"cutout_sise": 8}})", "unknown training setting 'augment.cutout_sise'"},
      {R"({"augment": {"cutout_size": 2.5}})", "'augment.cutout_size' must be a whole number"},
      {R"({"augment": 3})", "'augment' must be an object of settings, got 3"},
      {R"({"augment": {"rm_interp": "cubic"}})", "unknown interpolation \"cubic\""},
      {R"({"rm_alpha": 0.3, "augment": {"rm_alpha": 0.4}})", "'rm_alpha' is given twice"}};
  for (const auto& [text, expected] : cases)
    EXPECT_TRUE(json_fails_with(text, expected)) << text;
  TrainConfig c = config_from_json(nlohmann::json::parse(R"({"augment": {"rm_omega": -1}})"));
  c.device = "cpu";
  EXPECT_TRUE(resolve_fails_with(c, "--rm-omega must be in [0, 1000], got -1"));
}

TEST(TrainConfig, AConfigFileNestedTooDeepIsRefusedBeforeParsing) {
  testing::TemporaryDirectory dir;
  std::ofstream(dir / "config.json") << "{\"milestones\": " << std::string(100'000, '[');
  try {
    read_config_file(dir / "config.json");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: JSON nested more than 64 levels"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace remix::app
