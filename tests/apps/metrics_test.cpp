// Top-k counting against a naive ranking, the metrics.jsonl file, and the display's formatting.
#include "apps/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <numeric>

#include "apps/progress.h"
#include "tensor/random.h"
#include "tests/apps/apps_test_support.h"

namespace remix::app {
namespace {

// The label's position when the classes are sorted by logit, highest first, ties by index.
int64_t naive_rank(const float* z, int64_t classes, int32_t label) {
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return z[a] > z[b]; });
  return std::find(order.begin(), order.end(), label) - order.begin();
}

TEST(CountTopK, MatchesANaiveRankingIncludingTies) {
  Generator gen(3);
  const int64_t rows = 200, classes = 7;
  std::vector<float> logits(static_cast<size_t>(rows * classes));
  std::vector<int32_t> labels(static_cast<size_t>(rows));
  for (float& z : logits) z = static_cast<float>(gen.randint(4));  // few values: many ties
  for (int32_t& y : labels) y = static_cast<int32_t>(gen.randint(classes));
  TopKCounts expected;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t rank = naive_rank(&logits[static_cast<size_t>(r * classes)], classes,
                                    labels[static_cast<size_t>(r)]);
    expected.top1 += rank == 0;
    expected.top5 += rank < 5;
  }
  const TopKCounts counts = count_top_k(logits, labels, classes);
  EXPECT_EQ(counts.top1, expected.top1);
  EXPECT_EQ(counts.top5, expected.top5);
  EXPECT_GT(expected.top1, 0);
  EXPECT_LT(expected.top5, rows);
}

TEST(CountTopK, NeverCountsANonFinitePredictionAsRight) {
  const std::vector<float> logits = {NAN, 0.f, 0.f, 1.f, INFINITY, 0.f};
  const TopKCounts counts = count_top_k(logits, {0, 1}, 3);
  EXPECT_EQ(counts.top1, 0);
  EXPECT_EQ(counts.top5, 0);
}

TEST(CountTopK, RejectsMismatchedSizesAndLabelsOutOfRange) {
  EXPECT_THROW(count_top_k({1.f, 2.f, 3.f}, {0}, 2), Error);
  EXPECT_THROW(count_top_k({1.f, 2.f}, {2}, 2), Error);
}

TEST(MetricsFile, AppendsReadsBackAndTruncatesToAnEpoch) {
  testing::TemporaryDirectory dir;
  const std::string path = dir / "metrics.jsonl";
  for (int64_t e = 1; e <= 3; ++e) {
    EpochMetrics m;
    m.epoch = e;
    m.train_loss = 1.0 / 3.0 * static_cast<double>(e);  // not exactly printable in decimal
    m.test_top1 = 0.1 * static_cast<double>(e);
    append_metrics(path, m);
  }
  std::vector<EpochMetrics> lines = read_metrics(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].train_loss, 2.0 / 3.0);  // the exact double survives the text
  truncate_metrics(path, 2);
  lines = read_metrics(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines.back().epoch, 2);
  EXPECT_TRUE(read_metrics(dir / "missing.jsonl").empty());
}

TEST(MetricsFile, ALastLineCutShortIsDroppedAndAResumeRewritesTheFileWithoutIt) {
  testing::TemporaryDirectory dir;
  const std::string path = dir / "metrics.jsonl";
  EpochMetrics m;
  m.epoch = 1;
  append_metrics(path, m);
  const std::string line = to_json(m).dump();
  std::ofstream(path, std::ios::app) << line.substr(0, line.size() / 2);  // no newline
  EXPECT_EQ(read_metrics(path).size(), 1u);
  truncate_metrics(path, 5);
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, line + "\n");
}

TEST(MetricsFile, ALineNestedTooDeepIsAnErrorNamingTheLine) {
  testing::TemporaryDirectory dir;
  const std::string path = dir / "metrics.jsonl";
  std::ofstream(path) << to_json(EpochMetrics{}).dump() << "\n"
                      << std::string(100'000, '[') << std::string(100'000, ']') << "\n";
  try {
    read_metrics(path);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl line 2: JSON nested more than 64"),
              std::string::npos)
        << e.what();
  }
}

TEST(MetricsFile, AnEpochThatIsNotAWholeNumberIsAnErrorNotAConversion) {
  testing::TemporaryDirectory dir;
  const std::string path = dir / "metrics.jsonl";
  nlohmann::json line = to_json(EpochMetrics{});
  line["epoch"] = 1e300;  // converting it to int64_t would be undefined behaviour
  std::ofstream(path) << line.dump() << "\n";
  try {
    read_metrics(path);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("line 1: not a metrics line: epoch must be a whole number"),
        std::string::npos)
        << e.what();
  }
}

TEST(MetricsFile, EveryLineHasTheDocumentedKeys) {
  const nlohmann::json line = to_json(EpochMetrics{});
  for (const char* key : {"epoch", "train_loss", "train_top1", "test_loss", "test_top1",
                          "test_top5", "lr", "images_per_s", "elapsed_s"})
    EXPECT_TRUE(line.contains(key)) << key;
}

TEST(ProgressFormat, DurationsReadAsMinutesOrHours) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(75.4), "1:15");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(NAN), "?");
}

TEST(ProgressFormat, PlainLinesAppearEveryLogEveryBatches) {
  std::FILE* out = std::tmpfile();
  ProgressDisplay display(out, false, 2);
  display.start_epoch(0, 3, 0, 5);
  for (int64_t done = 1; done <= 5; ++done)
    if (display.wants_update(done)) display.update(done, 1.5, 0.25, done * 10);
  display.finish_epoch();
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;  // batches 2, 4 and 5
  EXPECT_NE(text.find("epoch 1/3  batch    2/5  loss 1.5000  top-1  25.0%"), std::string::npos)
      << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace remix::app
