// Batch augmentation on the CPU: resize-and-paste (nearest, and bilinear with align_corners=True,
// as PyTorch's F.interpolate), box paste and box fill, on hand-computed small cases and against
// naive loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

// A single-channel H x W image whose pixel (y, x) holds y * W + x.
Tensor ramp(int64_t H, int64_t W) {
  return Tensor::arange(H * W).reshape({1, H, W, 1});
}

Tensor box_row(int32_t x1, int32_t y1, int32_t x2, int32_t y2) {
  return Tensor::from_vector<int32_t>({x1, y1, x2, y2}, {1, 4});
}

TEST(PasteResized, NearestShrinksA4x4ImageIntoA2x3Box) {
  Tensor dst = Tensor::full({1, 4, 5, 1}, -1.0);
  prim::paste_resized(ramp(4, 4), box_row(1, 1, 4, 3), Interpolation::nearest, dst);
  // Rows: scale 4/2 = 2, sources 0 and 2. Columns: scale 4/3, floor(0, 1.33, 2.67) = 0, 1, 2.
  const std::vector<float> expected = {-1, -1, -1, -1, -1,  //
                                       -1, 0,  1,  2,  -1,  //
                                       -1, 8,  9,  10, -1,  //
                                       -1, -1, -1, -1, -1};
  EXPECT_EQ(dst.to_vector<float>(), expected);
}

TEST(PasteResized, BilinearShrinksA4x4ImageIntoA2x3Box) {
  Tensor dst = Tensor::full({1, 4, 5, 1}, -1.0);
  prim::paste_resized(ramp(4, 4), box_row(1, 1, 4, 3), Interpolation::bilinear, dst);
  // align_corners=True, source coordinate dst * (in - 1) / (out - 1): rows 0 * 3 and 1 * 3;
  // columns 0, 1.5, 3. The source is linear (4 y + x), so the blend is 4 * row + column.
  const std::vector<float> expected = {-1, -1, -1,   -1, -1,  //
                                       -1, 0,  1.5,  3,  -1,  //
                                       -1, 12, 13.5, 15, -1,  //
                                       -1, -1, -1,   -1, -1};
  EXPECT_EQ(dst.to_vector<float>(), expected);
}

TEST(PasteResized, BilinearEnlarging2x2To3x3KeepsTheCornersAndAveragesBetweenThem) {
  // a b    a          (a+b)/2          b
  // c d -> (a+c)/2    (a+b+c+d)/4      (b+d)/2
  //         c          (c+d)/2          d
  // with a, b, c, d = 1, 3, 5, 11 (not a plane, so the centre is not a side's midpoint). For
  // 2 -> 3 the half-pixel rule (align_corners=False) happens to give the same; the other cases
  // tell the two apart.
  const Tensor src = Tensor::from_vector(std::vector<float>{1, 3, 5, 11}, {1, 2, 2, 1});
  Tensor dst = Tensor::zeros({1, 3, 3, 1});
  prim::paste_resized(src, box_row(0, 0, 3, 3), Interpolation::bilinear, dst);
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{1, 2, 3,  //
                                                        3, 5, 7,  //
                                                        5, 8, 11}));
}

TEST(PasteResized, BilinearEnlarging2x2To4x4StepsByAThirdOfAPixel) {
  Tensor dst = Tensor::zeros({1, 4, 4, 1});
  prim::paste_resized(ramp(2, 2), box_row(0, 0, 4, 4), Interpolation::bilinear, dst);
  // Coordinates i * (2 - 1) / (4 - 1) = 0, 1/3, 2/3, 1; the value is 2 * row + column.
  const float k[] = {0.0f, 1.0f / 3, 2.0f / 3, 1.0f};
  std::vector<float> expected;
  for (float y : k)
    for (float x : k) expected.push_back(2 * y + x);
  EXPECT_TRUE(testing::all_close(dst, Tensor::from_vector(expected, {1, 4, 4, 1}), 1e-6, 1e-6));
  Tensor nearest = Tensor::zeros({1, 4, 4, 1});
  prim::paste_resized(ramp(2, 2), box_row(0, 0, 4, 4), Interpolation::nearest, nearest);
  EXPECT_EQ(nearest.to_vector<float>(),
            (std::vector<float>{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}));
}

TEST(PasteResized, BilinearIntoOnePixelTakesTheTopLeftCorner) {
  // One destination pixel: PyTorch's scale is 0, so the source coordinate is 0 on both axes.
  const Tensor src = Tensor::from_vector(std::vector<float>{7, 1, 2, 3}, {1, 2, 2, 1});
  Tensor dst = Tensor::zeros({1, 3, 3, 1});
  prim::paste_resized(src, box_row(1, 2, 2, 3), Interpolation::bilinear, dst);
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 7, 0}));
}

// PyTorch's interpolate, written out per destination pixel of the box.
float reference_pixel(const std::vector<float>& s, int64_t n, int64_t Hs, int64_t Ws, int64_t C,
                      int64_t c, int64_t i, int64_t j, int64_t bh, int64_t bw, bool bilinear) {
  const float sh = static_cast<float>(Hs) / bh, sw = static_cast<float>(Ws) / bw;
  const auto at = [&](int64_t y, int64_t x) { return s[((n * Hs + y) * Ws + x) * C + c]; };
  if (!bilinear)
    return at(std::min<int64_t>(static_cast<int64_t>(std::floor(i * sh)), Hs - 1),
              std::min<int64_t>(static_cast<int64_t>(std::floor(j * sw)), Ws - 1));
  // align_corners=True: the first and last pixels of source and box coincide.
  const float ch = bh > 1 ? static_cast<float>(Hs - 1) / (bh - 1) : 0.0f,
              cw = bw > 1 ? static_cast<float>(Ws - 1) / (bw - 1) : 0.0f;
  const float ry = i * ch, rx = j * cw;
  const int64_t y0 = static_cast<int64_t>(ry), x0 = static_cast<int64_t>(rx);
  const int64_t y1 = std::min(y0 + 1, Hs - 1), x1 = std::min(x0 + 1, Ws - 1);
  const float fy = ry - y0, fx = rx - x0;
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
         fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
}

TEST(PasteResized, MatchesPyTorchInterpolateOnRandomBoxes) {
  Generator gen(61);
  const int64_t Hs = 5, Ws = 6, H = 7, W = 8, C = 2;
  const Tensor src = testing::random_tensor({3, Hs, Ws, C}, gen);  // more images than dst: fine
  const std::vector<int32_t> boxes = {1, 2, 8, 5, 0, 0, 3, 7};
  const std::vector<float> s = src.to_vector<float>();
  for (bool bilinear : {false, true}) {
    Tensor dst = testing::random_tensor({2, H, W, C}, gen);
    std::vector<float> expected = dst.to_vector<float>();
    prim::paste_resized(src, Tensor::from_vector(boxes, {2, 4}),
                        bilinear ? Interpolation::bilinear : Interpolation::nearest, dst);
    for (int64_t n = 0; n < 2; ++n) {
      const int32_t* b = &boxes[4 * n];
      for (int64_t y = b[1]; y < b[3]; ++y)
        for (int64_t x = b[0]; x < b[2]; ++x)
          for (int64_t c = 0; c < C; ++c)
            expected[((n * H + y) * W + x) * C + c] = reference_pixel(
                s, n, Hs, Ws, C, c, y - b[1], x - b[0], b[3] - b[1], b[2] - b[0], bilinear);
    }
    EXPECT_TRUE(testing::all_close(dst, Tensor::from_vector(expected, {2, H, W, C}), 1e-5, 1e-5))
        << (bilinear ? "bilinear" : "nearest");
  }
}

TEST(PasteResized, NearestWorksOnBytesAndBilinearNeedsFloats) {
  const Tensor src = ramp(4, 4).to(DType::u8);
  Tensor dst = Tensor::zeros({1, 4, 5, 1}, DType::u8);
  prim::paste_resized(src, box_row(1, 1, 4, 3), Interpolation::nearest, dst);
  EXPECT_EQ(dst.to_vector<uint8_t>()[6], 0);
  EXPECT_EQ(dst.to_vector<uint8_t>()[13], 10);
  EXPECT_THROW(prim::paste_resized(src, box_row(1, 1, 4, 3), Interpolation::bilinear, dst), Error);
}

TEST(PasteBox, CopiesEachImagesBoxFromTheSource) {
  Generator gen(62);
  const Tensor src = testing::random_tensor({2, 4, 5, 3}, gen);
  for (const std::vector<int32_t>& boxes :
       {std::vector<int32_t>{1, 0, 4, 2, 0, 1, 5, 4}, std::vector<int32_t>{2, 1, 3, 3}}) {
    const int64_t rows = static_cast<int64_t>(boxes.size()) / 4;
    Tensor dst = testing::random_tensor({2, 4, 5, 3}, gen);
    std::vector<float> expected = dst.to_vector<float>();
    const std::vector<float> s = src.to_vector<float>();
    for (int64_t n = 0; n < 2; ++n) {
      const int32_t* b = &boxes[4 * (rows == 1 ? 0 : n)];
      for (int64_t y = b[1]; y < b[3]; ++y)
        for (int64_t x = b[0]; x < b[2]; ++x)
          for (int64_t c = 0; c < 3; ++c) {
            const size_t i = static_cast<size_t>(((n * 4 + y) * 5 + x) * 3 + c);
            expected[i] = s[i];
          }
    }
    prim::paste_box(src, Tensor::from_vector(boxes, {rows, 4}), dst);
    EXPECT_EQ(dst.to_vector<float>(), expected);
  }
}

TEST(FillBox, WritesTheValueInsideTheBoxOnly) {
  Tensor dst = Tensor::zeros({2, 3, 3, 1});
  prim::fill_box(Tensor::from_vector<int32_t>({0, 0, 2, 1, 1, 1, 1, 3}, {2, 4}), 0.5, dst);
  // Image 0: row 0, columns 0-1. Image 1: an empty box (x1 == x2).
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{0.5, 0.5, 0, 0, 0, 0, 0, 0, 0,  //
                                                        0, 0, 0, 0, 0, 0, 0, 0, 0}));
  Tensor bytes = Tensor::zeros({1, 2, 2, 2}, DType::u8);
  prim::fill_box(box_row(1, 0, 2, 2), 128, bytes);
  EXPECT_EQ(bytes.to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 128, 128, 0, 0, 128, 128}));
}

TEST(Mix, RejectsMisuse) {
  Tensor dst = Tensor::zeros({2, 4, 4, 1});
  const Tensor src = Tensor::zeros({2, 4, 4, 1});
  // Boxes outside the image, reversed, or with a row count that is neither 1 nor N.
  EXPECT_THROW(prim::paste_box(src, box_row(0, 0, 5, 2), dst), Error);
  EXPECT_THROW(prim::paste_box(src, box_row(2, 0, 1, 2), dst), Error);
  EXPECT_THROW(prim::fill_box(Tensor::zeros({3, 4}, DType::i32), 0, dst), Error);
  EXPECT_THROW(cpu_backend().fill_box(Tensor::zeros({1, 4}), 0, dst), Error);  // f32 boxes
  // Images that do not match.
  EXPECT_THROW(prim::paste_box(src.to(DType::u8), box_row(0, 0, 1, 1), dst), Error);
  const Tensor one_image = Tensor::zeros({1, 4, 4, 1}),
               three_channels = Tensor::zeros({2, 4, 4, 3});
  EXPECT_THROW(prim::paste_resized(one_image, box_row(0, 0, 1, 1), Interpolation::nearest, dst),
               Error);
  EXPECT_THROW(
      prim::paste_resized(three_channels, box_row(0, 0, 1, 1), Interpolation::nearest, dst), Error);
  // Resizing an image into itself would read pixels it has already overwritten.
  EXPECT_THROW(cpu_backend().paste_resized(dst, box_row(0, 0, 1, 1), Interpolation::nearest, dst),
               Error);
}

}  // namespace
}  // namespace remix
