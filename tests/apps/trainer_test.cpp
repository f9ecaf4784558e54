// End-to-end training in-process of a tiny network on a small synthetic set (tiny_config: 1,200
// training and 300 test images, 3 epochs): every augmentation learns well above chance, and a
// run stopped after an epoch or in the middle of one, then resumed, gives exactly the metrics of
// an uninterrupted run.
#include "apps/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "apps/curves.h"
#include "apps/data_source.h"
#include "apps/evaluate.h"
#include "nn/checkpoint.h"
#include "nn/checkpoint_store.h"
#include "tests/apps/apps_test_support.h"
#include "tests/apps/curves_test_support.h"

namespace remix::app {
namespace {

using testing::TemporaryDirectory;
using testing::XmlElement;
using testing::expect_curves_match;
using testing::parse_xml;

// Chance is 10% on the 10 balanced classes; with seed 0 the runs reach 40-47%.
constexpr double kWellAboveChance = 0.30;

std::string metrics_path(const TrainConfig& config) {
  return config.out + "/metrics.jsonl";
}

// One uninterrupted RecursiveMix run, shared by the tests that compare against it.
class RecursiveMixRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    config_ = new TrainConfig(testing::tiny_config(*directory_ / "reference", "rm"));
    result_ = new TrainResult(testing::train_in_process(*config_));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete config_;
    delete directory_;
  }
  // The shared run's settings, writing into a new directory.
  static TrainConfig config_in(const TemporaryDirectory& dir) {
    TrainConfig config = *config_;
    config.out = dir / "run";
    return config;
  }
  static int64_t steps_per_epoch() { return config_->synthetic_train / config_->batch_size; }

  static TemporaryDirectory* directory_;
  static TrainConfig* config_;
  static TrainResult* result_;
};

TemporaryDirectory* RecursiveMixRun::directory_ = nullptr;
TrainConfig* RecursiveMixRun::config_ = nullptr;
TrainResult* RecursiveMixRun::result_ = nullptr;

TEST_F(RecursiveMixRun, LearnsWellAboveChance) {
  ASSERT_EQ(result_->outcome, TrainOutcome::finished) << result_->message;
  ASSERT_EQ(result_->epochs.size(), 3u);
  EXPECT_GT(result_->epochs.back().test_top1, kWellAboveChance);
  double best = 0;
  for (const EpochMetrics& m : result_->epochs) best = std::max(best, m.test_top1);
  EXPECT_EQ(result_->best_top1, best);
}

TEST_F(RecursiveMixRun, WritesTheConfigAndTheMetrics) {
  std::ifstream config_file(config_->out + "/config.json");
  const nlohmann::json config = nlohmann::json::parse(config_file);
  EXPECT_EQ(config, to_json(*config_));
  for (const char* key : {"model", "aug", "lr", "epochs", "batch_size", "device", "precision",
                          "seed", "augment", "milestones"})
    EXPECT_TRUE(config.contains(key)) << key;
  for (const char* key : {"rm_alpha", "rm_omega", "rm_cl"})
    EXPECT_TRUE(config["augment"].contains(key)) << key;

  std::ifstream metrics_file(metrics_path(*config_));
  int64_t lines = 0;
  for (std::string line; std::getline(metrics_file, line); ++lines) {
    const nlohmann::json m = nlohmann::json::parse(line);
    for (const char* key : {"epoch", "train_loss", "train_top1", "test_loss", "test_top1",
                            "test_top5", "lr", "images_per_s", "elapsed_s"})
      EXPECT_TRUE(m.contains(key)) << key;
    EXPECT_EQ(m["epoch"], lines + 1);
  }
  EXPECT_EQ(lines, 3);
}

TEST_F(RecursiveMixRun, DrawsItsCurvesFromItsMetrics) {
  std::ifstream in(config_->out + "/curves.svg");
  ASSERT_TRUE(in.good()) << "curves.svg is missing";
  const XmlElement svg = parse_xml({std::istreambuf_iterator<char>(in), {}});
  expect_curves_match(svg, read_run_curves(config_->out));
  EXPECT_EQ(read_run_curves(config_->out).epochs.size(), 3u);
}

TEST_F(RecursiveMixRun, LastNamesTheFinalStepAndBestTheBestEpochAndNothingElseIsKept) {
  const nn::CheckpointStore store(config_->out);
  const int64_t steps = steps_per_epoch();
  EXPECT_EQ(store.linked_step("last"), 3 * steps);
  int64_t best_epoch = 0;
  for (size_t e = 0; e < result_->epochs.size(); ++e)
    if (result_->epochs[e].test_top1 == result_->best_top1 && best_epoch == 0) best_epoch = e + 1;
  EXPECT_EQ(store.linked_step("best"), best_epoch * steps);
  std::vector<int64_t> kept = {best_epoch * steps, 3 * steps};
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  EXPECT_EQ(store.complete_steps(), kept);
  for (const char* link : {"last.safetensors", "best.safetensors"}) {
    EXPECT_TRUE(std::filesystem::is_symlink(config_->out + "/" + link)) << link;
    EXPECT_TRUE(std::filesystem::exists(config_->out + "/" + link)) << link;
  }
}

TEST_F(RecursiveMixRun, TheBestCheckpointEvaluatesToTheBestTestAccuracy) {
  const TrainTestData data = load_data(*config_);
  std::shared_ptr<nn::Classifier> model = testing::make_tiny_net(*config_, 10);
  nn::load_model(config_->out + "/best.safetensors", *model);
  const InputPipeline input(Device::cpu(), DType::f32, false);
  data::DataLoader loader(data.test, input.loader_options(false, config_->batch_size, 0, 1));
  EXPECT_EQ(evaluate(*model, loader, input).top1, result_->best_top1);
}

TEST_F(RecursiveMixRun, ResumingAfterAnEpochReproducesTheMetricsExactly) {
  TemporaryDirectory dir;
  const TrainConfig config = config_in(dir);
  // The stop hook is asked before each step and after each epoch: stop after epoch 1.
  const TrainResult first = testing::train_in_process(config, "", steps_per_epoch());
  ASSERT_EQ(first.outcome, TrainOutcome::interrupted);
  ASSERT_EQ(first.epochs.size(), 1u);
  EXPECT_NE(first.message.find("interrupted at epoch 2, batch 0 of 30"), std::string::npos)
      << first.message;
  const TrainResult rest = testing::train_in_process(config, config.out + "/last.safetensors");
  ASSERT_EQ(rest.outcome, TrainOutcome::finished) << rest.message;
  testing::expect_same_metrics(read_metrics(metrics_path(config)),
                               read_metrics(metrics_path(*config_)));
}

TEST_F(RecursiveMixRun, ResumingFromAStopInsideAnEpochReproducesTheMetricsExactly) {
  TemporaryDirectory dir;
  const TrainConfig config = config_in(dir);
  const TrainResult first = testing::train_in_process(config, "", 7);  // stop before step 8
  ASSERT_EQ(first.outcome, TrainOutcome::interrupted);
  EXPECT_NE(first.message.find("interrupted at epoch 1, batch 7 of 30"), std::string::npos)
      << first.message;
  EXPECT_NE(first.message.find("remix-train --resume " + config.out), std::string::npos);
  EXPECT_TRUE(first.epochs.empty());
  const TrainResult rest = testing::train_in_process(config, config.out + "/last.safetensors");
  ASSERT_EQ(rest.outcome, TrainOutcome::finished) << rest.message;
  testing::expect_same_metrics(read_metrics(metrics_path(config)),
                               read_metrics(metrics_path(*config_)));
  EXPECT_EQ(rest.best_top1, result_->best_top1);
}

TEST_F(RecursiveMixRun, ANewRunRefusesADirectoryThatHoldsOne) {
  TrainerHooks hooks;
  hooks.out = std::fopen("/dev/null", "w");
  Trainer trainer(*config_, hooks);
  try {
    trainer.run();
    ADD_FAILURE() << "the second run overwrote the first";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("continue it with --resume"), std::string::npos)
        << e.what();
  }
  std::fclose(hooks.out);
}

class EveryAugmentation : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryAugmentation, LearnsTheSyntheticSetWellAboveChance) {
  TemporaryDirectory dir;
  const TrainResult result =
      testing::train_in_process(testing::tiny_config(dir / "run", GetParam()));
  ASSERT_EQ(result.outcome, TrainOutcome::finished) << result.message;
  EXPECT_GT(result.epochs.back().test_top1, kWellAboveChance);
}

// rm learns in RecursiveMixRun.LearnsWellAboveChance.
INSTANTIATE_TEST_SUITE_P(Apps, EveryAugmentation,
                         ::testing::Values("none", "cutout", "mixup", "cutmix"));

TEST(Trainer, ADivergingRunStopsWithoutWritingACheckpoint) {
  TemporaryDirectory dir;
  TrainConfig config = testing::tiny_config(dir / "run", "none", 1);
  config.lr = 1e6;
  const TrainResult result = testing::train_in_process(config);
  ASSERT_EQ(result.outcome, TrainOutcome::diverged);
  EXPECT_NE(result.message.find("NaN or infinite"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("lower --lr"), std::string::npos) << result.message;
  EXPECT_FALSE(std::filesystem::exists(config.out + "/last.safetensors"));
}

}  // namespace
}  // namespace remix::app
