// Mixup (augment/mixup.cpp) against x = lam x + (1 - lam) x[perm] computed here, same draws.
#include <gtest/gtest.h>

#include "augment/registry.h"
#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

TEST(Mixup, BlendsEachImageAndTargetWithAPermutedOneByABetaLam) {
  AugmentOptions options;
  options.mixup_alpha = 0.4;
  const auto mixup = make_augmentation("mixup", options);
  constexpr int64_t N = 5, H = 3, W = 4, C = 2, K = 3;
  Generator data(2), gen(8), replay(8);
  const testing::Batch b = testing::random_batch(data, N, H, W, C, K);
  const MixedBatch out = mixup->mix(b.images, b.targets, gen);

  const double lam = replay.beta(0.4, 0.4);
  const std::vector<int64_t> perm = replay.permutation(N);
  EXPECT_EQ(out.lam, lam);
  const auto blend = [&](const Tensor& t) {
    const std::vector<float> v = t.to_vector<float>();
    const int64_t row = t.numel() / N;
    std::vector<float> mixed;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < row; ++i)
        mixed.push_back(
            static_cast<float>(lam * v[n * row + i] + (1 - lam) * v[perm[n] * row + i]));
    return Tensor::from_vector(mixed, t.shape());
  };
  EXPECT_TRUE(remix::testing::all_close(out.images, blend(b.images), 1e-6));
  EXPECT_TRUE(remix::testing::all_close(out.targets, blend(b.targets), 1e-6));
  EXPECT_FALSE(out.consistency);
  EXPECT_EQ(gen.next_u64(), replay.next_u64());
}

TEST(Mixup, DrawsLamAsOneUniformWhenAlphaIsOne) {
  const auto mixup = make_augmentation("mixup");
  Generator data(2), gen(8), replay(8);
  const testing::Batch b = testing::random_batch(data, 3, 2, 2, 1, 2);
  EXPECT_EQ(mixup->mix(b.images, b.targets, gen).lam, replay.uniform());
}

TEST(Mixup, RejectsANonPositiveAlpha) {
  AugmentOptions options;
  options.mixup_alpha = 0.0;
  EXPECT_THROW(make_augmentation("mixup", options), Error);
}

}  // namespace
}  // namespace remix::augment
