// Bilinear resize against values worked out by hand from the half-pixel sampling formula.
#include "data/resize.h"

#include <gtest/gtest.h>

#include "tensor/check.h"

namespace remix::data {
namespace {

TEST(ResizeBilinear, UpsamplesTwoByTwoToFourByFourAsComputedByHand) {
  // Output column x samples input column (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped
  // to [0, 1]: weights (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1); rows likewise.
  const std::vector<uint8_t> src = {0, 100, 200, 40};
  const std::vector<uint8_t> expected = {0,   25,  75, 100,  //
                                         50,  59,  76, 85,   // 58.75, 76.25 rounded
                                         150, 126, 79, 55,   // 126.25, 78.75 rounded
                                         200, 160, 80, 40};
  EXPECT_EQ(resize_bilinear(src.data(), 2, 2, 1, 4, 4), expected);
}

TEST(ResizeBilinear, HalvingAveragesPairsOfPixelsPerChannel) {
  // Output x samples input (x + 0.5) * 2 - 0.5 = 0.5, 2.5: the mean of pixels 0-1 and 2-3.
  const std::vector<uint8_t> src = {10, 0, 20, 100, 30, 7, 41, 9};  // 4 x 1 pixels, 2 channels
  EXPECT_EQ(resize_bilinear(src.data(), 1, 4, 2, 1, 2), std::vector<uint8_t>({15, 50, 36, 8}));
}

TEST(ResizeBilinear, KeepsAnImageOfTheSameSizeAndAUniformImageUniform) {
  std::vector<uint8_t> src(5 * 3 * 3);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 11);
  EXPECT_EQ(resize_bilinear(src.data(), 5, 3, 3, 5, 3), src);
  const std::vector<uint8_t> grey(7 * 9 * 3, 123);
  EXPECT_EQ(resize_bilinear(grey.data(), 7, 9, 3, 4, 13), std::vector<uint8_t>(4 * 13 * 3, 123));
}

TEST(ResizeBilinear, RejectsEmptySizes) {
  const std::vector<uint8_t> src(4);
  EXPECT_THROW(resize_bilinear(src.data(), 2, 2, 1, 0, 3), Error);
}

}  // namespace
}  // namespace remix::data
