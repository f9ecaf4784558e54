// The input pipeline on the CPU: padded random crop, horizontal flip and normalisation of NHWC u8
// images, on small hand-checkable images and against naive loops.
#include <gtest/gtest.h>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

Tensor random_images(const Shape& shape, Generator& gen) {
  std::vector<uint8_t> v(static_cast<size_t>(numel(shape)));
  for (uint8_t& x : v) x = static_cast<uint8_t>(gen.randint(256));
  return Tensor::from_vector(v, shape);
}

TEST(CropPad, ReadsTheZeroPaddedImageAtTheOffset) {
  // One 3x3 single-channel image 1..9, padded by 1 to 5x5.
  const Tensor image = Tensor::from_vector<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
  const auto crop = [&](int32_t dy, int32_t dx) {
    return prim::crop_pad_u8(image, Tensor::from_vector<int32_t>({dy, dx}, {1, 2}), 1)
        .to_vector<uint8_t>();
  };
  EXPECT_EQ(crop(0, 0), (std::vector<uint8_t>{0, 0, 0, 0, 1, 2, 0, 4, 5}));
  EXPECT_EQ(crop(1, 1), image.to_vector<uint8_t>());
  EXPECT_EQ(crop(2, 2), (std::vector<uint8_t>{5, 6, 0, 8, 9, 0, 0, 0, 0}));
  EXPECT_EQ(crop(0, 2), (std::vector<uint8_t>{0, 0, 0, 2, 3, 0, 5, 6, 0}));
  EXPECT_EQ(crop(5, 0), std::vector<uint8_t>(9, 0));  // beyond the padding: all zeros
}

TEST(CropPad, MatchesANaiveLoopOnColourBatches) {
  Generator gen(51);
  const int64_t N = 3, H = 5, W = 4, C = 3, pad = 2;
  const Tensor in = random_images({N, H, W, C}, gen);
  const std::vector<int32_t> offsets = {0, 4, 2, 1, 4, 0};
  const Tensor out = prim::crop_pad_u8(in, Tensor::from_vector(offsets, {N, 2}), pad);
  const std::vector<uint8_t> v = in.to_vector<uint8_t>();
  std::vector<uint8_t> expected;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t sy = y + offsets[2 * n] - pad, sx = x + offsets[2 * n + 1] - pad;
          const bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
          expected.push_back(inside ? v[((n * H + sy) * W + sx) * C + c] : 0);
        }
  EXPECT_EQ(out.to_vector<uint8_t>(), expected);
}

TEST(Hflip, MirrorsOnlyTheFlaggedImages) {
  // Two 1x3 images with 2 channels.
  const Tensor in =
      Tensor::from_vector<uint8_t>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 1, 3, 2});
  const Tensor out = prim::hflip_u8(in, Tensor::from_vector<uint8_t>({1, 0}));
  EXPECT_EQ(out.to_vector<uint8_t>(),
            (std::vector<uint8_t>{5, 6, 3, 4, 1, 2, 7, 8, 9, 10, 11, 12}));
}

TEST(Hflip, FlippingTwiceGivesTheImageBack) {
  Generator gen(52);
  const Tensor in = random_images({4, 6, 7, 3}, gen);
  const Tensor flags = Tensor::from_vector<uint8_t>({1, 0, 1, 1});
  EXPECT_EQ(prim::hflip_u8(prim::hflip_u8(in, flags), flags).to_vector<uint8_t>(),
            in.to_vector<uint8_t>());
}

TEST(NormalizeU8, ScalesByTheChannelMeanAndStd) {
  const Tensor in = Tensor::from_vector<uint8_t>({0, 255, 51, 102, 204, 153}, {1, 1, 2, 3});
  const std::vector<float> mean = {0.5f, 0.25f, 0.1f}, std = {0.5f, 0.25f, 2.0f};
  const std::vector<float> v = in.to(DType::f32).to_vector<float>();
  std::vector<float> expected;
  for (size_t i = 0; i < v.size(); ++i)
    expected.push_back((v[i] / 255.0f - mean[i % 3]) / std[i % 3]);
  const Tensor out = prim::normalize_u8(in, mean, std);
  EXPECT_EQ(out.dtype(), DType::f32);
  EXPECT_TRUE(testing::all_close(out, Tensor::from_vector(expected, {1, 1, 2, 3}), 1e-6, 1e-6));
  // Pixel 0, channel 0: (0 / 255 - 0.5) / 0.5 = -1; channel 1: (1 - 0.25) / 0.25 = 3.
  EXPECT_EQ(out.to_vector<float>()[0], -1.0f);
  EXPECT_EQ(out.to_vector<float>()[1], 3.0f);
  for (DType dtype : {DType::f16, DType::bf16}) {
    const Tensor low = prim::normalize_u8(in, mean, std, dtype);
    EXPECT_EQ(low.dtype(), dtype);
    EXPECT_EQ(low.to(DType::f32).to_vector<float>(),
              out.to(dtype).to(DType::f32).to_vector<float>());
  }
}

TEST(ImagePipeline, RejectsMisuse) {
  const Tensor in = Tensor::zeros({2, 3, 3, 1}, DType::u8);
  EXPECT_THROW(prim::crop_pad_u8(in, Tensor::zeros({1, 2}, DType::i32), 1), Error);
  EXPECT_THROW(prim::crop_pad_u8(Tensor::zeros({2, 3, 3, 1}), Tensor::zeros({2, 2}, DType::i32), 1),
               Error);
  EXPECT_THROW(prim::hflip_u8(in, Tensor::zeros({3}, DType::u8)), Error);
  EXPECT_THROW(prim::normalize_u8(in, {0.5f, 0.5f}, {1.f, 1.f}), Error);
  Tensor wrong({2, 3, 3, 1}, DType::i32);
  EXPECT_THROW(cpu_backend().normalize_u8(in, {0.5f}, {1.f}, wrong), Error);
  Tensor other_shape({2, 3, 3, 2}, DType::u8);
  EXPECT_THROW(cpu_backend().hflip_u8(in, Tensor::zeros({2}, DType::u8), other_shape), Error);
}

}  // namespace
}  // namespace remix
