// Random crop, random flip and normalisation of u8 image batches, over the image primitives.
#include "data/transforms.h"

namespace remix::data {

CropFlip draw_crop_flip(Generator& gen, int64_t n, int64_t pad) {
  REMIX_CHECK(n >= 0 && pad >= 0, "draw_crop_flip: expected n >= 0 and pad >= 0, got {} and {}", n,
              pad);
  CropFlip draws{Tensor({n, 2}, DType::i32), Tensor({n}, DType::u8)};
  int32_t* offsets = draws.offsets.data<int32_t>();
  uint8_t* flips = draws.flips.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    offsets[2 * i] = static_cast<int32_t>(gen.randint(2 * pad + 1));
    offsets[2 * i + 1] = static_cast<int32_t>(gen.randint(2 * pad + 1));
    flips[i] = static_cast<uint8_t>(gen.randint(2));
  }
  return draws;
}

Tensor random_crop(const Tensor& images, const Tensor& offsets, int64_t pad) {
  return prim::crop_pad_u8(images, offsets.to(images.device()), pad);
}

Tensor random_flip(const Tensor& images, const Tensor& flags) {
  return prim::hflip_u8(images, flags.to(images.device()));
}

Tensor crop_flip(const Tensor& images, const CropFlip& draws, int64_t pad) {
  return random_flip(random_crop(images, draws.offsets, pad), draws.flips);
}

Tensor normalize(const Tensor& images, const std::vector<float>& mean,
                 const std::vector<float>& std, DType out_dtype) {
  return prim::normalize_u8(images, mean, std, out_dtype);
}

}  // namespace remix::data
