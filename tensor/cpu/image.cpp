// The input pipeline on the CPU, on NHWC u8 images: random crop with zero padding, horizontal
// flip, and normalisation to floating point.
//
// crop_pad_u8 reads out[n, y, x] = padded[n, y + oy, x + ox] where `padded` is in[n] with `pad`
// zero rows and columns on every side and (oy, ox) = offsets[n]; offsets normally lie in
// [0, 2 * pad] (torchvision's RandomCrop(size, padding=pad)); anything outside reads more zeros.
// Because a row of an NHWC image is W * C contiguous bytes, each output row is a zero run, one
// memcpy and a zero run.
#include <algorithm>
#include <cstring>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {

namespace {

using cpu::parallel_for;

void check_images(const Tensor& in, const Tensor& out, const char* what) {
  REMIX_CHECK(in.dtype() == DType::u8 && in.dim() == 4,
              "{}: expected N x H x W x C u8 images, got {} {}", what, dtype_name(in.dtype()),
              to_string(in.shape()));
  REMIX_CHECK(out.shape() == in.shape(), "{}: output is {} but the images are {}", what,
              to_string(out.shape()), to_string(in.shape()));
}

// out[n] = flip_left_right(in[n]): pixel x takes pixel W - 1 - x (all C channels).
void flip_image(const uint8_t* in, uint8_t* out, int64_t H, int64_t W, int64_t C) {
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      std::memcpy(out + (y * W + x) * C, in + (y * W + (W - 1 - x)) * C, static_cast<size_t>(C));
}

// One entry per (channel, byte value): (v / 255 - mean[c]) / std[c], stored as T.
template <class T, class Store>
std::vector<T> normalize_table(const std::vector<float>& mean, const std::vector<float>& std,
                               Store store) {
  std::vector<T> table(mean.size() * 256);
  for (size_t c = 0; c < mean.size(); ++c)
    for (int v = 0; v < 256; ++v)
      table[c * 256 + v] = store((static_cast<float>(v) / 255.0f - mean[c]) / std[c]);
  return table;
}

template <class T>
void normalize_with(const uint8_t* in, T* out, int64_t pixels, int64_t C,
                    const std::vector<T>& table) {
  parallel_for(pixels, C, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p)
      for (int64_t c = 0; c < C; ++c) out[p * C + c] = table[c * 256 + in[p * C + c]];
  });
}

}  // namespace

void CpuBackend::crop_pad_u8(const Tensor& in, const Tensor& offsets, int64_t pad, Tensor& out) {
  check_images(in, out, "crop_pad_u8");
  REMIX_CHECK(out.dtype() == DType::u8, "crop_pad_u8: the output must be u8");
  REMIX_CHECK(offsets.dtype() == DType::i32 && offsets.shape() == Shape({in.size(0), 2}),
              "crop_pad_u8: offsets must be i32 [{}, 2], got {} {}", in.size(0),
              dtype_name(offsets.dtype()), to_string(offsets.shape()));
  REMIX_CHECK(!in.same_storage(out), "crop_pad_u8: the output must not share the input's memory");
  const int64_t N = in.size(0), H = in.size(1), W = in.size(2), C = in.size(3);
  const int32_t* off = offsets.data<int32_t>();
  const uint8_t* src = in.data<uint8_t>();
  uint8_t* dst = out.data<uint8_t>();
  parallel_for(N * H, W * C, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / H, y = row % H;
      uint8_t* d = dst + row * W * C;
      const int64_t sy = y + off[2 * n] - pad;     // source row in the unpadded image
      const int64_t shift = off[2 * n + 1] - pad;  // source column of output column 0
      // Output columns [x0, x1) read source columns [x0 + shift, x1 + shift) inside [0, W).
      const int64_t x0 = std::clamp<int64_t>(-shift, 0, W),
                    x1 = std::clamp<int64_t>(W - shift, x0, W);
      if (sy < 0 || sy >= H || x0 == x1) {
        std::memset(d, 0, static_cast<size_t>(W * C));
        continue;
      }
      std::memset(d, 0, static_cast<size_t>(x0 * C));
      std::memcpy(d + x0 * C, src + ((n * H + sy) * W + x0 + shift) * C,
                  static_cast<size_t>((x1 - x0) * C));
      std::memset(d + x1 * C, 0, static_cast<size_t>((W - x1) * C));
    }
  });
}

void CpuBackend::hflip_u8(const Tensor& in, const Tensor& flags, Tensor& out) {
  check_images(in, out, "hflip_u8");
  REMIX_CHECK(out.dtype() == DType::u8, "hflip_u8: the output must be u8");
  REMIX_CHECK(flags.dtype() == DType::u8 && flags.shape() == Shape{in.size(0)},
              "hflip_u8: flags must be u8 [{}], got {} {}", in.size(0), dtype_name(flags.dtype()),
              to_string(flags.shape()));
  REMIX_CHECK(!in.same_storage(out), "hflip_u8: the output must not share the input's memory");
  const int64_t N = in.size(0), H = in.size(1), W = in.size(2), C = in.size(3);
  const int64_t image = H * W * C;
  const uint8_t* flag = flags.data<uint8_t>();
  const uint8_t* src = in.data<uint8_t>();
  uint8_t* dst = out.data<uint8_t>();
  parallel_for(N, image, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      if (flag[n] != 0)
        flip_image(src + n * image, dst + n * image, H, W, C);
      else
        std::memcpy(dst + n * image, src + n * image, static_cast<size_t>(image));
    }
  });
}

void CpuBackend::normalize_u8(const Tensor& in, const std::vector<float>& mean,
                              const std::vector<float>& std, Tensor& out) {
  check_images(in, out, "normalize_u8");
  const auto C = static_cast<size_t>(in.size(3));
  REMIX_CHECK(mean.size() == C && std.size() == C,
              "normalize_u8: {} channels need {} means and stds, got {} and {}", C, C, mean.size(),
              std.size());
  const uint8_t* src = in.data<uint8_t>();
  const int64_t pixels = in.numel() / std::max<int64_t>(1, in.size(3));
  switch (out.dtype()) {
    case DType::f32:
      normalize_with(src, out.data<float>(), pixels, in.size(3),
                     normalize_table<float>(mean, std, [](float v) { return v; }));
      return;
    case DType::f16:
      normalize_with(src, static_cast<uint16_t*>(out.raw_data()), pixels, in.size(3),
                     normalize_table<uint16_t>(mean, std, float_to_half));
      return;
    case DType::bf16:
      normalize_with(src, static_cast<uint16_t*>(out.raw_data()), pixels, in.size(3),
                     normalize_table<uint16_t>(mean, std, float_to_bf16));
      return;
    default:
      throw_error(fmt::format("normalize_u8: the output must be f32, f16 or bf16, got {}",
                              dtype_name(out.dtype())));
  }
}

}  // namespace remix
