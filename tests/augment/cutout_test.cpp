// Cutout (augment/cutout.cpp): each image's own clipped square is zero, the rest untouched.
#include <gtest/gtest.h>

#include <algorithm>

#include "augment/registry.h"
#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

TEST(Cutout, ZeroesEachImagesOwnClippedSquareAndKeepsTheTargets) {
  AugmentOptions options;
  options.cutout_size = 4;
  const auto cutout = make_augmentation("cutout", options);
  constexpr int64_t N = 12, H = 8, W = 7, C = 2;
  Generator data(4), gen(6), replay(6);
  const testing::Batch b = testing::random_batch(data, N, H, W, C, 3);
  const MixedBatch out = cutout->mix(b.images, b.targets, gen);
  EXPECT_TRUE(out.targets.same_storage(b.targets));

  const testing::Pixels mixed(out.images), original(b.images);
  bool clipped = false;
  int64_t zeroed = 0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t cy = replay.randint(H), cx = replay.randint(W);
    const int64_t x1 = std::max<int64_t>(cx - 2, 0), x2 = std::min<int64_t>(cx + 2, W);
    const int64_t y1 = std::max<int64_t>(cy - 2, 0), y2 = std::min<int64_t>(cy + 2, H);
    clipped = clipped || (x2 - x1) * (y2 - y1) < 16;
    zeroed += (x2 - x1) * (y2 - y1);
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const bool inside = x >= x1 && x < x2 && y >= y1 && y < y2;
        for (int64_t c = 0; c < C; ++c)
          ASSERT_EQ(mixed.at(n, y, x, c), inside ? 0.0f : original.at(n, y, x, c))
              << "image " << n << " pixel " << y << ", " << x;
      }
  }
  EXPECT_TRUE(clipped) << "the case should include a square clipped by the border";
  EXPECT_DOUBLE_EQ(out.lam, 1.0 - static_cast<double>(zeroed) / (N * H * W));
  EXPECT_EQ(gen.next_u64(), replay.next_u64());
}

TEST(Cutout, LeavesItsInputUnchanged) {
  const auto cutout = make_augmentation("cutout");
  Generator data(4), gen(6);
  const testing::Batch b = testing::random_batch(data, 2, 8, 8, 1, 3);
  const Tensor before = b.images.clone();
  cutout->mix(b.images, b.targets, gen);
  EXPECT_TRUE(testing::identical(b.images, before));
}

TEST(Cutout, RejectsANonPositiveSize) {
  AugmentOptions options;
  options.cutout_size = 0;
  EXPECT_THROW(make_augmentation("cutout", options), Error);
}

}  // namespace
}  // namespace remix::augment
