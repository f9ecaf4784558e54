// CutMix (augment/cutmix.cpp) against a direct reading of the official code, from the same draws.
#include <gtest/gtest.h>

#include "augment/box.h"
#include "augment/registry.h"
#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

using testing::identical;

constexpr int64_t kN = 4, kSide = 8, kC = 2, kK = 3;

AugmentOptions cutmix_options(double beta, double prob) {
  AugmentOptions options;
  options.cutmix_beta = beta;
  options.cutmix_prob = prob;
  return options;
}

// What CutMix must produce when it applies, with the area ratio already drawn from `replay`.
void expect_cutmix(const MixedBatch& out, const testing::Batch& b, double area_ratio,
                   Generator& replay) {
  const int64_t cx = replay.randint(kSide), cy = replay.randint(kSide);
  const std::vector<int64_t> perm = replay.permutation(kN);
  const Box box = box_at(cx, cy, area_ratio, kSide, kSide);
  const double lam = 1.0 - static_cast<double>(box.area()) / (kSide * kSide);
  EXPECT_DOUBLE_EQ(out.lam, lam);
  const testing::Pixels mixed(out.images), original(b.images);
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t y = 0; y < kSide; ++y)
      for (int64_t x = 0; x < kSide; ++x) {
        const bool inside = x >= box.x1 && x < box.x2 && y >= box.y1 && y < box.y2;
        for (int64_t c = 0; c < kC; ++c)
          ASSERT_EQ(mixed.at(n, y, x, c), original.at(inside ? perm[n] : n, y, x, c))
              << "image " << n << " pixel " << y << ", " << x;
      }
  const std::vector<float> y = b.targets.to_vector<float>();
  std::vector<float> expected;
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t k = 0; k < kK; ++k)
      expected.push_back(static_cast<float>(lam * y[n * kK + k] + (1 - lam) * y[perm[n] * kK + k]));
  EXPECT_TRUE(
      remix::testing::all_close(out.targets, Tensor::from_vector(expected, {kN, kK}), 1e-6));
}

TEST(CutMix, PastesTheSameRegionOfAPermutedImageAndMixesTargetsByTheClippedArea) {
  const auto cutmix = make_augmentation("cutmix", cutmix_options(1.0, 1.0));
  for (uint64_t seed = 0; seed < 6; ++seed) {
    Generator data(seed), gen(seed), replay(seed);
    const testing::Batch b = testing::random_batch(data, kN, kSide, kSide, kC, kK);
    const MixedBatch out = cutmix->mix(b.images, b.targets, gen);
    expect_cutmix(out, b, replay.uniform(), replay);
    EXPECT_FALSE(out.consistency);
  }
}

TEST(CutMix, DrawsTheAreaRatioFromBetaOfBeta) {
  const auto cutmix = make_augmentation("cutmix", cutmix_options(2.0, 1.0));
  Generator data(1), gen(3), replay(3);
  const testing::Batch b = testing::random_batch(data, kN, kSide, kSide, kC, kK);
  const MixedBatch out = cutmix->mix(b.images, b.targets, gen);
  expect_cutmix(out, b, replay.beta(2.0, 2.0), replay);
}

TEST(CutMix, AppliesWhenAUniformFallsBelowProb) {
  const auto cutmix = make_augmentation("cutmix", cutmix_options(1.0, 0.5));
  int applied = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Generator data(seed), gen(seed), replay(seed);
    const testing::Batch b = testing::random_batch(data, kN, kSide, kSide, kC, kK);
    const MixedBatch out = cutmix->mix(b.images, b.targets, gen);
    if (replay.uniform() < 0.5) {
      ++applied;
      expect_cutmix(out, b, replay.uniform(), replay);
    } else {
      EXPECT_TRUE(out.images.same_storage(b.images));
      EXPECT_EQ(out.lam, 1.0);
    }
    EXPECT_EQ(gen.next_u64(), replay.next_u64()) << "seed " << seed;
  }
  EXPECT_GT(applied, 0);
  EXPECT_LT(applied, 10);
}

TEST(CutMix, LeavesTheBatchUntouchedWithProbZero) {
  const auto cutmix = make_augmentation("cutmix", cutmix_options(1.0, 0.0));
  for (uint64_t seed = 0; seed < 5; ++seed) {
    Generator data(seed), gen(seed);
    const testing::Batch b = testing::random_batch(data, kN, kSide, kSide, kC, kK);
    const MixedBatch out = cutmix->mix(b.images, b.targets, gen);
    EXPECT_TRUE(out.images.same_storage(b.images));
    EXPECT_TRUE(out.targets.same_storage(b.targets));
    EXPECT_EQ(out.lam, 1.0);
  }
}

TEST(CutMix, RejectsANonPositiveBetaAndAProbOutsideZeroToOne) {
  EXPECT_THROW(make_augmentation("cutmix", cutmix_options(0.0, 0.5)), Error);
  EXPECT_THROW(make_augmentation("cutmix", cutmix_options(1.0, 1.5)), Error);
}

}  // namespace
}  // namespace remix::augment
