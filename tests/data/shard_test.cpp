// Epoch shards for data-parallel training (data/shard.h) and the loader that yields them: the
// shards are disjoint and together the epoch, padded shards are equal in size, the split is
// the same every time for a seed and an epoch, and step k of N ranks with batch B holds the
// examples of step k of one process with batch N*B.
#include "data/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/loader.h"
#include "tests/data/data_test_support.h"

namespace remix::data {
namespace {

using remix::testing::throws_error_with;

std::vector<int64_t> iota_order(int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 100);  // values unlike positions
  return order;
}

// n one-channel 1x1 images whose pixel is their index (n <= 256).
Dataset numbered(int64_t n) {
  Dataset d;
  d.images = Tensor({n, 1, 1, 1}, DType::u8);
  d.labels = Tensor({n}, DType::i32);
  for (int64_t i = 0; i < n; ++i) {
    d.images.data<uint8_t>()[i] = static_cast<uint8_t>(i);
    d.labels.data<int32_t>()[i] = 0;
  }
  d.num_classes = 1;
  d.class_names = {"a"};
  return d;
}

// The batches of one epoch of shard {count, index}, each as the list of its image indices.
std::vector<std::vector<int64_t>> epoch_batches(int64_t n, int64_t batch, Shard shard,
                                                int64_t epoch, bool shuffle = true) {
  LoaderOptions options;
  options.batch_size = batch;
  options.workers = 0;
  options.seed = 7;
  options.shuffle = shuffle;
  options.shard = shard;
  DataLoader loader(numbered(n), options);
  loader.start_epoch(epoch);
  std::vector<std::vector<int64_t>> batches;
  while (std::optional<Batch> b = loader.next()) {
    const std::vector<uint8_t> pixels = b->images.to_vector<uint8_t>();
    batches.emplace_back(pixels.begin(), pixels.end());
  }
  EXPECT_EQ(static_cast<int64_t>(batches.size()), loader.num_batches());
  return batches;
}

TEST(Shard, UnpaddedShardsAreDisjointAndTogetherTheWholeOrder) {
  const std::vector<int64_t> order = iota_order(23);
  std::multiset<int64_t> seen;
  for (int64_t r = 0; r < 4; ++r) {
    const std::vector<int64_t> part = take_shard(order, {4, r, false});
    EXPECT_EQ(static_cast<int64_t>(part.size()), shard_size(23, {4, r, false}));
    seen.insert(part.begin(), part.end());
  }
  EXPECT_EQ(seen, std::multiset<int64_t>(order.begin(), order.end()));
}

TEST(Shard, PaddedShardsHaveEqualSizesAndRepeatTheStartOfTheOrder) {
  const std::vector<int64_t> order = iota_order(10);
  // 10 into 4: 12 positions, the last two repeat positions 0 and 1 (values 100, 101).
  EXPECT_EQ(take_shard(order, {4, 0, true}), (std::vector<int64_t>{100, 104, 108}));
  EXPECT_EQ(take_shard(order, {4, 1, true}), (std::vector<int64_t>{101, 105, 109}));
  EXPECT_EQ(take_shard(order, {4, 2, true}), (std::vector<int64_t>{102, 106, 100}));
  EXPECT_EQ(take_shard(order, {4, 3, true}), (std::vector<int64_t>{103, 107, 101}));
  for (int64_t r = 0; r < 4; ++r) EXPECT_EQ(shard_size(10, {4, r, true}), 3);
}

TEST(Shard, PaddingRepeatsTheOrderAgainWhenThereAreMoreShardsThanExamples) {
  const std::vector<int64_t> order = iota_order(2);
  EXPECT_EQ(take_shard(order, {5, 4, true}), (std::vector<int64_t>{100}));
  EXPECT_EQ(take_shard(order, {5, 3, false}), (std::vector<int64_t>{}));
}

TEST(Shard, RefusesAnIndexOutsideTheShardCount) {
  EXPECT_TRUE(throws_error_with([] { shard_size(10, {2, 2, true}); }, {"shard 2 of 2"}));
  EXPECT_TRUE(throws_error_with([] { shard_size(10, {0, 0, true}); }, {"count >= 1"}));
}

TEST(ShardedLoader, EveryRankRunsTheSameNumberOfStepsAndTheRanksCoverTheEpoch) {
  std::set<int64_t> seen;
  int64_t steps = -1;
  for (int64_t r = 0; r < 3; ++r) {
    const auto batches = epoch_batches(50, 4, {3, r, true}, 2);
    if (steps < 0) steps = static_cast<int64_t>(batches.size());
    EXPECT_EQ(static_cast<int64_t>(batches.size()), steps) << "rank " << r;
    for (const auto& b : batches) seen.insert(b.begin(), b.end());
  }
  EXPECT_EQ(steps, 5);  // ceil(50 / 3) = 17 examples per rank, in batches of 4
  EXPECT_EQ(seen.size(), 50u);
}

TEST(ShardedLoader, TheSplitDependsOnlyOnTheSeedAndTheEpoch) {
  const auto first = epoch_batches(40, 5, {2, 1, true}, 3);
  EXPECT_EQ(epoch_batches(40, 5, {2, 1, true}, 3), first);
  EXPECT_NE(epoch_batches(40, 5, {2, 1, true}, 4), first);
}

TEST(ShardedLoader, StepKOfTwoRanksHoldsStepKOfOneProcessWithTwiceTheBatch) {
  const auto whole = epoch_batches(48, 8, {1, 0, true}, 1);
  const auto rank0 = epoch_batches(48, 4, {2, 0, true}, 1);
  const auto rank1 = epoch_batches(48, 4, {2, 1, true}, 1);
  ASSERT_EQ(whole.size(), rank0.size());
  ASSERT_EQ(whole.size(), rank1.size());
  for (size_t k = 0; k < whole.size(); ++k) {
    std::vector<int64_t> both = rank0[k];
    both.insert(both.end(), rank1[k].begin(), rank1[k].end());
    std::sort(both.begin(), both.end());
    std::vector<int64_t> expected = whole[k];
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(both, expected) << "step " << k;
  }
}

TEST(ShardedLoader, AnUnshuffledTestSetIsSplitWithoutRepeats) {
  std::vector<int64_t> all;
  for (int64_t r = 0; r < 2; ++r)
    for (const auto& b : epoch_batches(11, 4, {2, r, false}, 0, false))
      all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(11);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
}

}  // namespace
}  // namespace remix::data
