// Crop/flip draws and the crop, flip and normalise steps on images small enough to check by
// hand (a 3x3 one-channel image holding 1..9).
#include "data/transforms.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/support/test_support.h"

namespace remix::data {
namespace {

// One 3x3 single-channel image:  1 2 3 / 4 5 6 / 7 8 9.
Tensor one_to_nine() {
  return Tensor::from_vector<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
}

TEST(DrawCropFlip, GivesOffsetsInRangeAndFairFlipsReproducibly) {
  Generator gen(11);
  const CropFlip draws = draw_crop_flip(gen, 2000, 4);
  EXPECT_EQ(draws.offsets.shape(), Shape({2000, 2}));
  EXPECT_EQ(draws.offsets.dtype(), DType::i32);
  EXPECT_EQ(draws.flips.shape(), Shape({2000}));
  EXPECT_EQ(draws.flips.dtype(), DType::u8);
  std::set<int32_t> seen;
  for (int32_t o : draws.offsets.to_vector<int32_t>()) {
    EXPECT_GE(o, 0);
    EXPECT_LE(o, 8);
    seen.insert(o);
  }
  EXPECT_EQ(seen.size(), 9u);  // every offset 0..8 occurs
  int flipped = 0;
  for (uint8_t f : draws.flips.to_vector<uint8_t>()) {
    EXPECT_LE(f, 1);
    flipped += f;
  }
  EXPECT_NEAR(flipped, 1000, 100);  // binomial(2000, 0.5): sd 22
  Generator again(11);
  const CropFlip same = draw_crop_flip(again, 2000, 4);
  EXPECT_EQ(same.offsets.to_vector<int32_t>(), draws.offsets.to_vector<int32_t>());
  EXPECT_EQ(same.flips.to_vector<uint8_t>(), draws.flips.to_vector<uint8_t>());
}

TEST(DrawCropFlip, GivesZeroOffsetsWithoutPadding) {
  Generator gen(2);
  const CropFlip draws = draw_crop_flip(gen, 50, 0);
  EXPECT_EQ(draws.offsets.to_vector<int32_t>(), std::vector<int32_t>(100, 0));
}

TEST(RandomCrop, ShiftsTheImageInsideItsZeroPadding) {
  auto crop = [](int32_t row, int32_t col) {
    return random_crop(one_to_nine(), Tensor::from_vector<int32_t>({row, col}, {1, 2}), 1)
        .to_vector<uint8_t>();
  };
  EXPECT_EQ(crop(1, 1), std::vector<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}));  // centred: as is
  EXPECT_EQ(crop(0, 0), std::vector<uint8_t>({0, 0, 0, 0, 1, 2, 0, 4, 5}));
  EXPECT_EQ(crop(2, 2), std::vector<uint8_t>({5, 6, 0, 8, 9, 0, 0, 0, 0}));
  EXPECT_EQ(crop(0, 2), std::vector<uint8_t>({0, 0, 0, 2, 3, 0, 5, 6, 0}));
}

TEST(RandomFlip, MirrorsOnlyTheFlaggedImages) {
  const Tensor two =
      Tensor::from_vector<uint8_t>({1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, {2, 2, 3, 1});
  const Tensor flipped = random_flip(two, Tensor::from_vector<uint8_t>({0, 1}));
  EXPECT_EQ(flipped.to_vector<uint8_t>(),
            std::vector<uint8_t>({1, 2, 3, 4, 5, 6, 3, 2, 1, 6, 5, 4}));
}

TEST(CropFlip, CropsThenFlips) {
  const CropFlip draws{Tensor::from_vector<int32_t>({0, 0}, {1, 2}),
                       Tensor::from_vector<uint8_t>({1}, {1})};
  EXPECT_EQ(crop_flip(one_to_nine(), draws, 1).to_vector<uint8_t>(),
            std::vector<uint8_t>({0, 0, 0, 2, 1, 0, 5, 4, 0}));
}

TEST(Normalize, MapsBytesToStandardisedFloatsPerChannel) {
  const Tensor pixel = Tensor::from_vector<uint8_t>({0, 255, 51}, {1, 1, 1, 3});
  const Tensor out = normalize(pixel);
  EXPECT_EQ(out.dtype(), DType::f32);
  const Tensor expected = Tensor::from_vector<float>(
      {(0.0f - 0.4914f) / 0.2023f, (1.0f - 0.4822f) / 0.1994f, (0.2f - 0.4465f) / 0.2010f},
      {1, 1, 1, 3});
  EXPECT_TRUE(remix::testing::all_close(out, expected, 1e-5, 1e-5));
}

}  // namespace
}  // namespace remix::data
