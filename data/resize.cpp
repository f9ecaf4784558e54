// Bilinear resize of a u8 H x W x C image; the sampling convention is in data/resize.h.
#include "data/resize.h"

#include <algorithm>
#include <cmath>

#include "tensor/check.h"

namespace remix::data {

namespace {

// For each output coordinate: the two input indices it blends and the weight of the second.
struct Taps {
  std::vector<int64_t> lo, hi;
  std::vector<float> frac;
};

Taps make_taps(int64_t in_size, int64_t out_size) {
  Taps t;
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  for (int64_t o = 0; o < out_size; ++o) {
    const double s = std::clamp((o + 0.5) * scale - 0.5, 0.0, static_cast<double>(in_size - 1));
    const auto lo = static_cast<int64_t>(std::floor(s));
    t.lo.push_back(lo);
    t.hi.push_back(std::min(lo + 1, in_size - 1));
    t.frac.push_back(static_cast<float>(s - static_cast<double>(lo)));
  }
  return t;
}

}  // namespace

std::vector<uint8_t> resize_bilinear(const uint8_t* src, int64_t height, int64_t width,
                                     int64_t channels, int64_t out_height, int64_t out_width) {
  REMIX_CHECK(height > 0 && width > 0 && channels > 0 && out_height > 0 && out_width > 0,
              "resize_bilinear: sizes must be positive, got {}x{}x{} to {}x{}", height, width,
              channels, out_height, out_width);
  const Taps ys = make_taps(height, out_height);
  const Taps xs = make_taps(width, out_width);
  std::vector<uint8_t> out(static_cast<size_t>(out_height * out_width * channels));
  auto at = [&](int64_t y, int64_t x, int64_t c) {
    return static_cast<float>(src[(y * width + x) * channels + c]);
  };
  for (int64_t y = 0; y < out_height; ++y) {
    const float fy = ys.frac[y];
    for (int64_t x = 0; x < out_width; ++x) {
      const float fx = xs.frac[x];
      for (int64_t c = 0; c < channels; ++c) {
        const float top = at(ys.lo[y], xs.lo[x], c) * (1 - fx) + at(ys.lo[y], xs.hi[x], c) * fx;
        const float bottom = at(ys.hi[y], xs.lo[x], c) * (1 - fx) + at(ys.hi[y], xs.hi[x], c) * fx;
        const float value = top * (1 - fy) + bottom * fy;
        out[(y * out_width + x) * channels + c] =
            static_cast<uint8_t>(std::clamp(std::lround(value), 0L, 255L));
      }
    }
  }
  return out;
}

}  // namespace remix::data
