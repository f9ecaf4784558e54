// The shared mixing arithmetic (augment/mixing.h): the paste (nearest and bilinear resize, same
// place) pinned on tiny hand-computed images, target mixing, and the draws.
#include "augment/mixing.h"

#include <gtest/gtest.h>

#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

using testing::identical;
using testing::Pixels;

// One 4 x 4 image with two channels: channel 0 is 4 y + x (0..15), channel 1 its negative.
Tensor counting_image() {
  std::vector<float> v;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) v.insert(v.end(), {4.0f * y + x, -(4.0f * y + x)});
  return Tensor::from_vector(v, {1, 4, 4, 2});
}

Tensor filled(const Shape& shape, double value) {
  return Tensor::full(shape, value);
}

Tensor first_class() {
  return Tensor::from_vector(std::vector<float>{1, 0}, {1, 2});
}
Tensor second_class() {
  return Tensor::from_vector(std::vector<float>{0, 1}, {1, 2});
}

// The 4 x 4 x 2 image as rows of channel 0, and a check that channel 1 is its negative.
std::vector<float> channel0(const Tensor& image) {
  const Pixels p(image);
  std::vector<float> out;
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x) {
      out.push_back(p.at(0, y, x, 0));
      EXPECT_EQ(p.at(0, y, x, 1), -p.at(0, y, x, 0)) << "channel 1 at " << y << ", " << x;
    }
  return out;
}

TEST(PasteAndMix, ResizesTheWholeSourceIntoTheBoxWithNearestNeighbours) {
  // 4 -> 2: source index floor(2 i), so rows and columns 0 and 2 of the source.
  const MixedBatch out =
      paste_and_mix(filled({1, 4, 4, 2}, 0.0), first_class(), counting_image(), second_class(),
                    Box{1, 1, 3, 3}, PasteOptions{.resize = true});
  EXPECT_EQ(channel0(out.images), (std::vector<float>{0, 0, 0, 0,   //
                                                      0, 0, 2, 0,   //
                                                      0, 8, 10, 0,  //
                                                      0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(out.lam, 0.75);
  EXPECT_TRUE(
      identical(out.targets, Tensor::from_vector(std::vector<float>{0.75f, 0.25f}, {1, 2})));
}

TEST(PasteAndMix, ResizesTheWholeSourceIntoTheBoxBilinearly) {
  // 4 -> 3 with align_corners=True: source coordinate i * (4 - 1) / (3 - 1) = 0, 1.5, 3 on both
  // axes, so the corners 0, 3, 12, 15 are kept and the rest are midpoints of the linear 4 y + x.
  const MixedBatch out = paste_and_mix(
      filled({1, 4, 4, 2}, 0.0), first_class(), counting_image(), second_class(), Box{1, 1, 4, 4},
      PasteOptions{.resize = true, .interpolation = Interpolation::bilinear});
  EXPECT_EQ(channel0(out.images), (std::vector<float>{0, 0, 0, 0,        //
                                                      0, 0, 1.5, 3,      //
                                                      0, 6, 7.5, 9,      //
                                                      0, 12, 13.5, 15}));
}

TEST(PasteAndMix, ResizesIntoANonSquareBox) {
  // A 3 x 1 box: columns floor(i * 4/3) = 0, 1, 2 of source row floor(0 * 4) = 0.
  const MixedBatch out =
      paste_and_mix(filled({1, 4, 4, 2}, 0.0), first_class(), counting_image(), second_class(),
                    Box{0, 2, 3, 3}, PasteOptions{.resize = true});
  EXPECT_EQ(channel0(out.images), (std::vector<float>{0, 0, 0, 0,  //
                                                      0, 0, 0, 0,  //
                                                      0, 1, 2, 0,  //
                                                      0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(out.lam, 1.0 - 3.0 / 16.0);
}

TEST(PasteAndMix, CopiesTheSameRegionOfTheSourceWithoutResize) {
  const MixedBatch out =
      paste_and_mix(filled({1, 4, 4, 2}, 0.0), first_class(), counting_image(), second_class(),
                    Box{1, 0, 3, 2}, PasteOptions{.resize = false});
  EXPECT_EQ(channel0(out.images), (std::vector<float>{0, 1, 2, 0,  //
                                                      0, 5, 6, 0,  //
                                                      0, 0, 0, 0,  //
                                                      0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(out.lam, 0.75);
}

TEST(PasteAndMix, TakesTheFirstSourceRowsForASmallerBatch) {
  Generator gen(3);
  const Tensor images = remix::testing::random_tensor({2, 4, 4, 1}, gen);
  const Tensor source = remix::testing::random_tensor({3, 4, 4, 1}, gen);
  const Tensor targets = prim::one_hot(Tensor::from_vector(std::vector<int32_t>{0, 1}), 3);
  const Tensor source_targets =
      prim::one_hot(Tensor::from_vector(std::vector<int32_t>{2, 2, 0}), 3);
  for (bool resize : {false, true}) {
    const MixedBatch out = paste_and_mix(images, targets, source, source_targets, Box{0, 0, 4, 4},
                                         PasteOptions{.resize = resize});
    // The box is the whole image: each image becomes its source row (resizing 4 -> 4 is a copy).
    EXPECT_TRUE(identical(out.images, first_rows(source, 2))) << "resize " << resize;
    EXPECT_TRUE(identical(out.targets, first_rows(source_targets, 2))) << "resize " << resize;
  }
}

TEST(PasteAndMix, LeavesTheBatchUnmixedForAnEmptyBox) {
  const Tensor images = filled({1, 4, 4, 2}, 0.0), targets = first_class();
  const MixedBatch out = paste_and_mix(images, targets, counting_image(), second_class(),
                                       Box{2, 1, 2, 3}, PasteOptions{.resize = true});
  EXPECT_TRUE(out.images.same_storage(images));
  EXPECT_TRUE(out.targets.same_storage(targets));
  EXPECT_EQ(out.lam, 1.0);
  EXPECT_FALSE(out.consistency);
}

TEST(MixTargets, WeighsTheTwoTargetRowsByLam) {
  const Tensor y = Tensor::from_vector(std::vector<float>{1, 0, 0, 0, 0, 1}, {2, 3});
  const Tensor other = Tensor::from_vector(std::vector<float>{0, 1, 0, 0.5f, 0.5f, 0}, {2, 3});
  EXPECT_TRUE(remix::testing::all_close(
      mix_targets(y, other, 0.3),
      Tensor::from_vector(std::vector<float>{0.3f, 0.7f, 0, 0.35f, 0.35f, 0.3f}, {2, 3}), 1e-7));
}

TEST(DrawBeta, DrawsBetaOneOneAsOneUniformAndOthersFromTheGenerator) {
  Generator gen(5), replay(5);
  EXPECT_EQ(draw_beta(gen, 1.0, 1.0), replay.uniform());
  EXPECT_EQ(draw_beta(gen, 0.4, 2.0), replay.beta(0.4, 2.0));
  EXPECT_THROW(draw_beta(gen, 0.0, 1.0), Error);
}

TEST(DrawPermutation, IsTheGeneratorsPermutationAsAnI32Index) {
  Generator gen(9), replay(9);
  const Tensor perm = draw_permutation(gen, 7, Device::cpu());
  const std::vector<int64_t> expected = replay.permutation(7);
  EXPECT_EQ(perm.dtype(), DType::i32);
  EXPECT_EQ(perm.to_vector<int32_t>(), std::vector<int32_t>(expected.begin(), expected.end()));
}

}  // namespace
}  // namespace remix::augment
