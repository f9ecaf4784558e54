// Batch augmentation on the CPU, on NHWC images: paste a resized image into a box (RecursiveMix),
// paste a box from another batch (CutMix), fill a box with a value (Cutout).
//
// A box is an i32 row (x1, y1, x2, y2) of columns x1 <= x < x2 and rows y1 <= y < y2; there is
// one row per image or a single row for the whole batch. Resizing follows
// torch.nn.functional.interpolate as the official RecursiveMix code calls it (scales in f32, as
// PyTorch computes them):
//   nearest   scale = in / out, src = min(floor(dst * scale), in - 1)
//   bilinear  align_corners=True: scale = (in - 1) / (out - 1) (0 when out = 1), src = dst * scale,
//             so the corner pixels of the source land on the corners of the box; i0 = floor(src),
//             i1 = min(i0 + 1, in - 1), weights (1 - (src - i0), src - i0) on (i0, i1),
//             first along the width then along the height.
// paste_box and fill_box move bytes and work for every dtype; paste_resized works for every dtype
// with nearest and for f32 with bilinear.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {

namespace {

using cpu::parallel_for;

struct Box {
  int64_t x1, y1, x2, y2;
};

// The boxes, checked: i32 [N, 4] or [1, 4], each inside the H x W images of `images`.
std::vector<Box> read_boxes(const Tensor& boxes, const Tensor& images, const char* what) {
  REMIX_CHECK(images.dim() == 4, "{}: expected N x H x W x C images, got {}", what,
              to_string(images.shape()));
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2);
  REMIX_CHECK(boxes.dtype() == DType::i32 && boxes.dim() == 2 && boxes.size(1) == 4 &&
                  (boxes.size(0) == N || boxes.size(0) == 1),
              "{}: boxes must be i32 [{}, 4] or [1, 4], got {} {}", what, N,
              dtype_name(boxes.dtype()), to_string(boxes.shape()));
  const int32_t* b = boxes.data<int32_t>();
  std::vector<Box> out;
  for (int64_t i = 0; i < boxes.size(0); ++i) {
    const Box box{b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]};
    REMIX_CHECK(0 <= box.x1 && box.x1 <= box.x2 && box.x2 <= W && 0 <= box.y1 && box.y1 <= box.y2 &&
                    box.y2 <= H,
                "{}: box ({}, {}, {}, {}) is not inside a {}x{} image", what, box.x1, box.y1,
                box.x2, box.y2, H, W);
    out.push_back(box);
  }
  return out;
}

const Box& box_of(const std::vector<Box>& boxes, int64_t n) {
  return boxes.size() == 1 ? boxes[0] : boxes[n];
}

// Calls fn(row, y) for every image row n * H + y of `images` that lies inside its box.
template <class Fn>
void for_each_box_row(const Tensor& images, const std::vector<Box>& boxes, const Fn& fn) {
  const int64_t N = images.size(0), H = images.size(1);
  parallel_for(N * H, images.size(2) * images.size(3), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / H, y = row % H;
      const Box& b = box_of(boxes, n);
      if (y >= b.y1 && y < b.y2 && b.x1 < b.x2) fn(n, y, b);
    }
  });
}

// PyTorch's nearest source index for destination index i.
int64_t nearest_source(int64_t i, int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(i) * scale)), in - 1);
}

// PyTorch's bilinear neighbours and weights (align_corners=True) for destination index i.
struct Linear {
  int64_t i0, i1;
  float w0, w1;
};
Linear linear_source(int64_t i, int64_t in, int64_t out) {
  const float scale = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  const float src = static_cast<float>(i) * scale;
  const auto i0 = static_cast<int64_t>(src);
  const float w1 = std::clamp(src - static_cast<float>(i0), 0.0f, 1.0f);
  return {i0, i0 < in - 1 ? i0 + 1 : i0, 1.0f - w1, w1};
}

// Destination row y of image n (inside box b) from the nearest source pixels, byte by byte.
void paste_nearest_row(const Tensor& src, Tensor& dst, int64_t n, int64_t y, const Box& b) {
  const int64_t Hs = src.size(1), Ws = src.size(2), W = dst.size(2);
  const size_t pixel = static_cast<size_t>(dst.size(3)) * element_size(dst.dtype());
  const int64_t sy = nearest_source(y - b.y1, Hs, b.y2 - b.y1);
  const auto* s = static_cast<const uint8_t*>(src.raw_data()) + (n * Hs + sy) * Ws * pixel;
  auto* d = static_cast<uint8_t*>(dst.raw_data()) + (n * dst.size(1) + y) * W * pixel;
  for (int64_t x = b.x1; x < b.x2; ++x)
    std::memcpy(d + x * pixel, s + nearest_source(x - b.x1, Ws, b.x2 - b.x1) * pixel, pixel);
}

// Destination row y of image n (inside box b) blended from four source pixels, f32.
void paste_bilinear_row(const Tensor& src, Tensor& dst, int64_t n, int64_t y, const Box& b) {
  const int64_t Hs = src.size(1), Ws = src.size(2), W = dst.size(2), C = dst.size(3);
  const Linear ly = linear_source(y - b.y1, Hs, b.y2 - b.y1);
  const float* row0 = src.data<float>() + (n * Hs + ly.i0) * Ws * C;
  const float* row1 = src.data<float>() + (n * Hs + ly.i1) * Ws * C;
  float* d = dst.data<float>() + (n * dst.size(1) + y) * W * C;
  for (int64_t x = b.x1; x < b.x2; ++x) {
    const Linear lx = linear_source(x - b.x1, Ws, b.x2 - b.x1);
    for (int64_t c = 0; c < C; ++c) {
      const float top = lx.w0 * row0[lx.i0 * C + c] + lx.w1 * row0[lx.i1 * C + c];
      const float bottom = lx.w0 * row1[lx.i0 * C + c] + lx.w1 * row1[lx.i1 * C + c];
      d[x * C + c] = ly.w0 * top + ly.w1 * bottom;
    }
  }
}

}  // namespace

void CpuBackend::paste_resized(const Tensor& src, const Tensor& box, Interpolation mode,
                               Tensor& dst) {
  const std::vector<Box> boxes = read_boxes(box, dst, "paste_resized");
  REMIX_CHECK(src.dim() == 4 && src.size(0) >= dst.size(0) && src.size(3) == dst.size(3) &&
                  src.dtype() == dst.dtype(),
              "paste_resized: source {} {} cannot fill destination {} {}", to_string(src.shape()),
              dtype_name(src.dtype()), to_string(dst.shape()), dtype_name(dst.dtype()));
  REMIX_CHECK(!src.same_storage(dst), "paste_resized: source and destination share memory");
  REMIX_CHECK(mode == Interpolation::nearest || dst.dtype() == DType::f32,
              "paste_resized: bilinear resizing on the CPU needs f32 images, got {}",
              dtype_name(dst.dtype()));
  if (dst.numel() == 0) return;
  REMIX_CHECK(src.size(1) > 0 && src.size(2) > 0, "paste_resized: the source images are empty");
  for_each_box_row(dst, boxes, [&](int64_t n, int64_t y, const Box& b) {
    if (mode == Interpolation::nearest)
      paste_nearest_row(src, dst, n, y, b);
    else
      paste_bilinear_row(src, dst, n, y, b);
  });
}

void CpuBackend::paste_box(const Tensor& src, const Tensor& box, Tensor& dst) {
  const std::vector<Box> boxes = read_boxes(box, dst, "paste_box");
  REMIX_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(),
              "paste_box: source {} {} and destination {} {} must match", to_string(src.shape()),
              dtype_name(src.dtype()), to_string(dst.shape()), dtype_name(dst.dtype()));
  if (src.same_storage(dst)) return;  // pasting an image onto itself changes nothing
  const size_t pixel = static_cast<size_t>(dst.size(3)) * element_size(dst.dtype());
  const int64_t W = dst.size(2);
  const auto* s = static_cast<const uint8_t*>(src.raw_data());
  auto* d = static_cast<uint8_t*>(dst.raw_data());
  for_each_box_row(dst, boxes, [&](int64_t n, int64_t y, const Box& b) {
    const size_t at = ((n * dst.size(1) + y) * W + b.x1) * pixel;
    std::memcpy(d + at, s + at, static_cast<size_t>(b.x2 - b.x1) * pixel);
  });
}

void CpuBackend::fill_box(const Tensor& boxes, double value, Tensor& dst) {
  const std::vector<Box> rows = read_boxes(boxes, dst, "fill_box");
  // `value` in dst's dtype, converted by the same rules as fill().
  Tensor one({1}, dst.dtype());
  fill(one, value);
  const int64_t W = dst.size(2), C = dst.size(3);
  const auto fill_rows = [&](auto bits) {
    using T = decltype(bits);
    const T v = *static_cast<const T*>(one.raw_data());
    T* d = static_cast<T*>(dst.raw_data());
    for_each_box_row(dst, rows, [&](int64_t n, int64_t y, const Box& b) {
      T* row = d + ((n * dst.size(1) + y) * W + b.x1) * C;
      std::fill(row, row + (b.x2 - b.x1) * C, v);
    });
  };
  switch (element_size(dst.dtype())) {
    case 1:
      return fill_rows(uint8_t{});
    case 2:
      return fill_rows(uint16_t{});
    default:
      return fill_rows(uint32_t{});
  }
}

}  // namespace remix
