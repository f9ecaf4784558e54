// The GPU input pipeline against the CPU backend: padded random crops (offsets at both extremes
// and in between), per-image horizontal flips, and normalisation of u8 images to f32/f16/bf16
// with 3 and 5 channels.
#include <gtest/gtest.h>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::matches_cpu;
using testing::random_integers;
using testing::same_bytes;
using testing::to_gpu;

Tensor random_images(const Shape& shape, Generator& gen) {
  return random_integers(shape, gen, 0, 255).to(DType::u8);
}

TEST(CudaImage, CropWithPaddingMatchesTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(80);
  const Tensor images = random_images({4, 7, 9, 3}, gen);
  const int64_t pad = 2;
  // Rows, columns of each crop's corner in the padded image: corners, centre, a mix.
  const Tensor offsets = Tensor::from_vector<int32_t>({0, 0, 4, 4, 2, 2, 1, 3}, {4, 2});
  EXPECT_TRUE(same_bytes(prim::crop_pad_u8(to_gpu(images), to_gpu(offsets), pad),
                         prim::crop_pad_u8(images, offsets, pad)));
  const Tensor none = Tensor::zeros({4, 2}, DType::i32);
  EXPECT_TRUE(same_bytes(prim::crop_pad_u8(to_gpu(images), to_gpu(none), 0), images));
}

TEST(CudaImage, HorizontalFlipFlipsOnlyTheFlaggedImages) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(81);
  const Tensor images = random_images({3, 5, 7, 3}, gen);
  const Tensor flags = Tensor::from_vector<uint8_t>({1, 0, 7});
  EXPECT_TRUE(
      same_bytes(prim::hflip_u8(to_gpu(images), to_gpu(flags)), prim::hflip_u8(images, flags)));
}

TEST(CudaImage, NormalizeMatchesTheCpuInEveryFloatDtype) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(82);
  const std::vector<std::pair<std::vector<float>, std::vector<float>>> stats = {
      {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}},  // CIFAR-10
      {{0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, {0.5f, 0.4f, 0.3f, 0.2f, 0.1f}}};
  for (const auto& [mean, std] : stats) {
    const auto C = static_cast<int64_t>(mean.size());
    const Tensor images = random_images({2, 5, 3, C}, gen);
    for (DType dtype : testing::kFloatTypes) {
      SCOPED_TRACE(::testing::Message() << C << " channels " << dtype_name(dtype));
      EXPECT_TRUE(matches_cpu(prim::normalize_u8(to_gpu(images), mean, std, dtype),
                              prim::normalize_u8(images, mean, std, DType::f32), dtype, 4.0));
    }
  }
}

}  // namespace
}  // namespace remix
