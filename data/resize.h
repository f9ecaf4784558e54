// Bilinear resizing of one u8 image (H x W x C, rows top to bottom), used by the image-folder
// dataset when images of any size are loaded to one fixed size.
//
// Pixel centres are aligned (half-pixel convention, as OpenCV's INTER_LINEAR and PyTorch's
// interpolate(mode="bilinear", align_corners=False)): output pixel (y, x) samples the input at
//   sy = (y + 0.5) * H / out_H - 0.5,   sx = (x + 0.5) * W / out_W - 0.5,
// clamped to the image, and blends the four nearest input pixels with weights from the
// fractional parts; the result is rounded to the nearest integer. There is no anti-aliasing:
// shrinking by more than 2x skips pixels, which is fine for the small factors datasets need.
#pragma once

#include <cstdint>
#include <vector>

namespace remix::data {

std::vector<uint8_t> resize_bilinear(const uint8_t* src, int64_t height, int64_t width,
                                     int64_t channels, int64_t out_height, int64_t out_width);

}  // namespace remix::data
