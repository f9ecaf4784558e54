// remix-bench's JSON line.
#include <gtest/gtest.h>

#include "tests/apps/apps_test_support.h"
#include "tests/support/test_support.h"

namespace remix::app {
namespace {

TEST(RemixBench, PrintsOneThroughputLineWithTheReferenceFields) {
  const testing::ProgramResult r = testing::run_program(
      "remix-bench", {"--model", "resnet20", "--aug", "rm", "--batch-size", "8", "--iters", "2",
                      "--warmup", "1", "--device", "cpu", "--compute-threads", "1"});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  ASSERT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  const nlohmann::json line = nlohmann::json::parse(r.output);
  EXPECT_EQ(line.at("kind"), "throughput");
  EXPECT_EQ(line.at("model"), "resnet20");
  EXPECT_EQ(line.at("mode"), "fp32");
  EXPECT_EQ(line.at("aug"), "rm");
  EXPECT_EQ(line.at("batch"), 8);
  EXPECT_EQ(line.at("device"), "cpu");
  EXPECT_EQ(line.at("peak_mem_kind"), "process_peak_rss");
  EXPECT_GT(line.at("ms_per_step").get<double>(), 0);
  EXPECT_GT(line.at("peak_mem_mb").get<double>(), 1);
  EXPECT_EQ(line.at("host_waits_per_step").get<double>(), 0.0);  // no uploads wait on the CPU
  const double ms = line.at("ms_per_step").get<double>();
  // img_per_s is rounded to 0.1 and ms_per_step to 0.001: they agree within the rounding.
  EXPECT_NEAR(line.at("img_per_s").get<double>(), 8 * 1000 / ms, 0.001 * 8 * 1000 / ms + 0.05);
}

TEST(RemixBench, TheReferenceMatrixNeedsAGpu) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present";
  const testing::ProgramResult r = testing::run_program("remix-bench", {"--all"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.output.find("no CUDA device"), std::string::npos) << r.output;
}

TEST(RemixBench, BadValuesExitNonZero) {
  EXPECT_NE(testing::run_program("remix-bench", {"--iters", "0", "--device", "cpu"}).exit_status,
            0);
  EXPECT_NE(testing::run_program("remix-bench", {"--model", "vgg"}).exit_status, 0);
}

}  // namespace
}  // namespace remix::app
