// The remix-train program itself, run as a child process: its flags and their ranges, exit
// statuses and messages, --eval-only (also of broken checkpoints), Ctrl-C and --resume, and a
// diverging run.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "nn/safetensors.h"
#include "tests/apps/apps_test_support.h"

namespace remix::app {
namespace {

namespace fs = std::filesystem;
using testing::ProgramResult;
using testing::TemporaryDirectory;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The last line of the output that parses as a JSON object.
nlohmann::json last_json_line(const std::string& output) {
  nlohmann::json found;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("{")) found = nlohmann::json::parse(line);
  return found;
}

TEST(RemixTrain, HelpListsTheOptionsWithTheirDefaults) {
  const ProgramResult r = testing::run_program("remix-train", {"--help"});
  EXPECT_EQ(r.exit_status, 0);
  for (const char* text :
       {"--model", "resnet20", "pyramidnet164", "--aug", "RecursiveMix", "--rm-no-rs", "--lr",
        "0.1", "--precision", "--resume", "--eval-only", "--max-steps-per-epoch", "--threads"})
    EXPECT_TRUE(contains(r.output, text)) << text;
}

TEST(RemixTrain, BadFlagsAndValuesExitNonZeroWithAMessage) {
  ProgramResult r = testing::run_program("remix-train", {"--no-such-flag"});
  EXPECT_NE(r.exit_status, 0);
  EXPECT_TRUE(contains(r.output, "--no-such-flag")) << r.output;
  r = testing::run_program("remix-train", {"--model", "resnet7"});
  EXPECT_NE(r.exit_status, 0);
  EXPECT_TRUE(contains(r.output, "resnet7")) << r.output;
  r = testing::run_program("remix-train", {"--lr", "-1", "--device", "cpu"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_TRUE(contains(r.output, "--lr must be in (0, 100], got -1")) << r.output;
  r = testing::run_program("remix-train", {"--device", "cpu", "--precision", "fp16"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_TRUE(contains(r.output, "the CPU computes in fp32 only")) << r.output;
}

TEST(RemixTrain, NumbersOutsideTheirRangeAreErrorsNamingTheRange) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--batch-size", "9223372036854775807"}, "--batch-size must be in [1, 65536]"},
      {{"--threads", "500"}, "--threads must be in [0, 64], got 500"},
      {{"--compute-threads", "10000"}, "--compute-threads must be in [0, "},
      {{"--epochs", "0"}, "--epochs must be in [1, 100000], got 0"}};
  for (const auto& [words, message] : cases) {
    std::vector<std::string> arguments = words;
    arguments.insert(arguments.end(), {"--device", "cpu"});
    const ProgramResult r = testing::run_program("remix-train", arguments);
    EXPECT_EQ(r.exit_status, 1) << r.output;
    EXPECT_TRUE(contains(r.output, message)) << r.output;
  }
  const ProgramResult seed = testing::run_program("remix-train", {"--seed", "-1"});
  EXPECT_NE(seed.exit_status, 0);
  EXPECT_TRUE(contains(seed.output, "expected a whole number in [0, 2^64 - 1], got -1"))
      << seed.output;
  const ProgramResult help = testing::run_program("remix-train", {"--help"});
  for (const char* range : {"Images per step [1, 65536]", "(0, 100]", "[0, 64]"})
    EXPECT_TRUE(contains(help.output, range)) << range;
}

TEST(RemixTrain, EvalOnlyRefusesACheckpointNestedTooDeep) {
  const ProgramResult r = testing::run_program(
      "remix-train",
      {"--eval-only", std::string(REMIX_TESTS_DIR) + "/nn/fixtures/st_deep_shape_100k.safetensors",
       "--device", "cpu"});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "JSON nested more than 64 levels")) << r.output;
}

TEST(RemixTrain, AMissingDataDirectoryIsNamedInTheMessage) {
  TemporaryDirectory dir;
  const ProgramResult r = testing::run_program(
      "remix-train", {"--data", "folder:/no/such/cifar", "--device", "cpu", "--out", dir / "run"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_TRUE(contains(r.output, "/no/such/cifar does not exist")) << r.output;
  EXPECT_TRUE(contains(r.output, "/no/such/cifar/train/<class>/<image>")) << r.output;
}

TEST(RemixTrain, SummaryPrintsTheLayersAndExits) {
  const ProgramResult r =
      testing::run_program("remix-train", {"--model", "resnet20", "--summary", "--device", "cpu"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "layer3.2.conv2")) << r.output;
  EXPECT_TRUE(contains(r.output, "fc")) << r.output;
}

// One epoch trained by the program, shared by the tests below.
class RemixTrainRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = new TemporaryDirectory();
    result_ = new ProgramResult(testing::run_program("remix-train", arguments(run_dir())));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete directory_;
  }
  static std::string run_dir() { return *directory_ / "run"; }
  static std::vector<std::string> arguments(const std::string& out) {
    std::vector<std::string> words = testing::small_config_arguments(out, "none", 1);
    words.insert(words.end(), {"--log-every", "1"});
    return words;
  }

  static TemporaryDirectory* directory_;
  static ProgramResult* result_;
};

TemporaryDirectory* RemixTrainRun::directory_ = nullptr;
ProgramResult* RemixTrainRun::result_ = nullptr;

TEST_F(RemixTrainRun, PrintsTheConfigProgressLinesAndOneSummaryPerEpoch) {
  ASSERT_EQ(result_->exit_status, 0) << result_->output;
  EXPECT_TRUE(contains(result_->output, "remix-train configuration:"));
  EXPECT_TRUE(
      contains(result_->output, "data synthetic: 400 training and 100 test images, 10 classes"))
      << result_->output;
  EXPECT_TRUE(contains(result_->output, "epoch 1/1  batch    8/8  loss")) << result_->output;
  EXPECT_TRUE(contains(result_->output, "epoch 1/1  train loss")) << result_->output;
  EXPECT_TRUE(contains(result_->output, "img/s")) << result_->output;
  EXPECT_FALSE(contains(result_->output, "\r"));  // not a terminal: plain lines only
}

TEST_F(RemixTrainRun, EvalOnlyGivesTheAccuracyMeasuredInTraining) {
  ASSERT_EQ(result_->exit_status, 0) << result_->output;
  const ProgramResult r = testing::run_program(
      "remix-train", {"--eval-only", run_dir() + "/best.safetensors", "--threads", "1"});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  const nlohmann::json line = last_json_line(r.output);
  const std::vector<EpochMetrics> trained = read_metrics(run_dir() + "/metrics.jsonl");
  ASSERT_EQ(trained.size(), 1u);
  EXPECT_EQ(line.at("test_top1").get<double>(), trained[0].test_top1);
  EXPECT_EQ(line.at("test_top5").get<double>(), trained[0].test_top5);
  EXPECT_EQ(line.at("test_loss").get<double>(), trained[0].test_loss);
}

TEST_F(RemixTrainRun, CtrlCSavesACheckpointThatResumesToTheSameMetrics) {
  ASSERT_EQ(result_->exit_status, 0) << result_->output;
  TemporaryDirectory dir;
  const std::string out = dir / "run";
  const ProgramResult stopped =
      testing::run_program("remix-train", arguments(out), "batch    3/8", SIGINT);
  ASSERT_EQ(stopped.exit_status, 130) << stopped.output;
  EXPECT_TRUE(contains(stopped.output, "remix-train --resume " + out)) << stopped.output;
  const ProgramResult resumed =
      testing::run_program("remix-train", {"--resume", out, "--threads", "1"});
  ASSERT_EQ(resumed.exit_status, 0) << resumed.output;
  testing::expect_same_metrics(read_metrics(out + "/metrics.jsonl"),
                               read_metrics(run_dir() + "/metrics.jsonl"));
}

TEST_F(RemixTrainRun, ADivergingRunStopsWithAMessageAndKeepsTheLastCheckpoint) {
  ASSERT_EQ(result_->exit_status, 0) << result_->output;
  TemporaryDirectory dir;
  const std::string copy = dir / "run";
  fs::copy(run_dir(), copy, fs::copy_options::recursive);
  // Resume for a second epoch at the highest learning rate allowed.
  const ProgramResult r =
      testing::run_program("remix-train", {"--resume", copy, "--epochs", "2", "--lr", "100"});
  EXPECT_EQ(r.exit_status, 3) << r.output;
  EXPECT_TRUE(contains(r.output, "training diverged: the loss is NaN or infinite at epoch 2"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "is intact")) << r.output;
  EXPECT_TRUE(contains(r.output, "lower --lr")) << r.output;
  const ProgramResult eval =
      testing::run_program("remix-train", {"--eval-only", copy + "/last.safetensors"});
  ASSERT_EQ(eval.exit_status, 0) << eval.output;
  EXPECT_EQ(last_json_line(eval.output).at("test_top1").get<double>(),
            read_metrics(run_dir() + "/metrics.jsonl").at(0).test_top1);
}

TEST_F(RemixTrainRun, EvalOnlyOnACheckpointOfNaNsIsAnError) {
  ASSERT_EQ(result_->exit_status, 0) << result_->output;
  TemporaryDirectory dir;
  nn::SafetensorsFile file = nn::read_safetensors(run_dir() + "/best.safetensors");
  for (nn::SafetensorsEntry& entry : file.tensors)
    if (entry.dtype == nn::SafetensorsDType::F32)
      for (size_t i = 0; i < entry.data.size(); i += 4) {
        const float nan = std::nanf("");
        std::memcpy(&entry.data[i], &nan, 4);
      }
  nn::write_safetensors(dir / "nan.safetensors", file);
  fs::copy_file(run_dir() + "/config.json", dir / "config.json");
  const ProgramResult r = testing::run_program(
      "remix-train", {"--eval-only", dir / "nan.safetensors", "--threads", "1"});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "not a usable model")) << r.output;
}

TEST_F(RemixTrainRun, ResumingARunThatNeverSavedStartsItFromTheFirstEpoch) {
  ASSERT_EQ(result_->exit_status, 0) << result_->output;
  TemporaryDirectory dir;
  const std::string out = dir / "run";
  fs::create_directories(out);
  fs::copy_file(run_dir() + "/config.json", out + "/config.json");  // its "out" is overridden
  const ProgramResult r = testing::run_program("remix-train", {"--resume", out});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "holds no complete checkpoint yet")) << r.output;
  testing::expect_same_metrics(read_metrics(out + "/metrics.jsonl"),
                               read_metrics(run_dir() + "/metrics.jsonl"));
}

TEST_F(RemixTrainRun, ANewRunInTheSameDirectoryIsRefused) {
  ASSERT_EQ(result_->exit_status, 0) << result_->output;
  const ProgramResult r = testing::run_program("remix-train", arguments(run_dir()));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_TRUE(contains(r.output, "already holds a run")) << r.output;
}

}  // namespace
}  // namespace remix::app
