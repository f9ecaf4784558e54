// The box arithmetic of Cutout, CutMix and RecursiveMix (augment/box.h) on hand-computed cases.
#include "augment/box.h"

#include <gtest/gtest.h>

#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

TEST(BoxAt, CentresACutOfSideSqrtRatioOnThePoint) {
  // 32 x 32, ratio 1/4: r = 1/2, cut = 16, half = 8 on each side of (cx, cy) = (10, 20).
  EXPECT_EQ(box_at(10, 20, 0.25, 32, 32), (Box{2, 12, 18, 28}));
  EXPECT_DOUBLE_EQ(lam_of(Box{2, 12, 18, 28}, 32, 32), 1.0 - 256.0 / 1024.0);
}

TEST(BoxAt, ClipsAtTheBorderAndLamCountsOnlyThePastedArea) {
  // Centre (1, 30): x from -7 to 9 clipped to [0, 9), y from 22 to 38 clipped to [22, 32).
  const Box box = box_at(1, 30, 0.25, 32, 32);
  EXPECT_EQ(box, (Box{0, 22, 9, 32}));
  EXPECT_EQ(box.area(), 90);
  EXPECT_DOUBLE_EQ(lam_of(box, 32, 32), 1.0 - 90.0 / 1024.0);
}

TEST(BoxAt, UsesIntegerDivisionForTheHalfSideAsTheReference) {
  // 10 x 10, ratio 0.3: cut = floor(10 * 0.5477) = 5, half = 5 / 2 = 2: the box is 4 wide.
  EXPECT_EQ(box_at(5, 5, 0.3, 10, 10), (Box{3, 3, 7, 7}));
}

TEST(BoxAt, ScalesEachSideWithItsOwnImageSide) {
  // H = 8, W = 16, ratio 1/4: cut_w = 8, cut_h = 4; centre (4, 7): y from 5 to 9 clipped to 8.
  EXPECT_EQ(box_at(4, 7, 0.25, 8, 16), (Box{0, 5, 8, 8}));
}

TEST(BoxAt, GivesAnEmptyBoxForARatioOfZeroAndHalfTheImageAtACornerForOne) {
  const Box none = box_at(3, 3, 0.0, 8, 8);
  EXPECT_TRUE(none.empty());
  EXPECT_DOUBLE_EQ(lam_of(none, 8, 8), 1.0);
  EXPECT_EQ(box_at(0, 0, 1.0, 8, 8), (Box{0, 0, 4, 4}));
}

TEST(BoxAt, RejectsARatioOutsideZeroToOne) {
  EXPECT_THROW(box_at(0, 0, 1.5, 8, 8), Error);
  EXPECT_THROW(box_at(0, 0, -0.1, 8, 8), Error);
}

TEST(DrawBox, DrawsTheColumnThenTheRowOfTheCentre) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Generator gen(seed), replay(seed);
    const Box box = draw_box(gen, 8, 16, 0.3);
    const int64_t cx = replay.randint(16);
    const int64_t cy = replay.randint(8);
    EXPECT_EQ(box, box_at(cx, cy, 0.3, 8, 16)) << "seed " << seed;
    EXPECT_EQ(gen.next_u64(), replay.next_u64()) << "draw_box made other draws, seed " << seed;
  }
}

TEST(BoxTensor, HoldsTheCornersAsOneI32Row) {
  const Tensor t = box_tensor(Box{1, 2, 5, 7}, Device::cpu());
  EXPECT_EQ(t.dtype(), DType::i32);
  EXPECT_EQ(t.shape(), (Shape{1, 4}));
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 5, 7}));
}

TEST(RoiBoxes, RepeatsTheBoxOnEveryRowInF32Pixels) {
  const Tensor t = roi_boxes(Box{1, 2, 5, 7}, 3, Device::cpu());
  EXPECT_EQ(t.shape(), (Shape{3, 4}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 5, 7, 1, 2, 5, 7, 1, 2, 5, 7}));
}

}  // namespace
}  // namespace remix::augment
