// TrainConfig: command-line parsing, checks, automatic values and the JSON round trip.
#include "apps/train_config.h"

#include <gtest/gtest.h>

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

TEST(TrainConfig, CommandLineSetsValuesListsAndNegatedFlags) {
  const TrainConfig c = parse({"--model", "resnet56", "--lr", "0.05", "--milestones", "3,6",
                               "--rm-no-rs", "--rm-no-cl", "--no-crop-flip", "--nesterov", "--aug",
                               "rm", "--rm-interp", "bilinear"});
  EXPECT_EQ(c.model, "resnet56");
  EXPECT_EQ(c.lr, 0.05);
  EXPECT_EQ(c.milestones, (std::vector<int64_t>{3, 6}));
  EXPECT_FALSE(c.rm_rs);
  EXPECT_TRUE(c.rm_hs);
  EXPECT_FALSE(c.rm_cl);
  EXPECT_FALSE(c.crop_flip);
  EXPECT_TRUE(c.nesterov);
  EXPECT_EQ(c.aug, "rm");
  EXPECT_EQ(c.rm_interp, "bilinear");
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
  EXPECT_TRUE(resolve_fails_with(c, "--lr must be positive"));
  c.lr = 0.1;
  c.batch_size = 0;
  EXPECT_TRUE(resolve_fails_with(c, "--batch-size must be positive"));
  c.batch_size = 128;
  c.label_smoothing = 1.5;
  EXPECT_TRUE(resolve_fails_with(c, "--label-smoothing"));
  c.label_smoothing = 0;
  c.milestones = {5, 3};
  EXPECT_TRUE(resolve_fails_with(c, "--milestones must increase"));
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
  EXPECT_FALSE(back.rm_hs);
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

}  // namespace
}  // namespace remix::app
