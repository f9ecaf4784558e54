// The rectangle arithmetic shared by Cutout, CutMix and RecursiveMix
// (docs/RECURSIVEMIX.md, "One training step", step 3).
//
// A box is (x1, y1, x2, y2) in pixels, half-open: columns x1 <= x < x2, rows y1 <= y < y2, of an
// H x W image. A box of side cut_w x cut_h centred on (cx, cy) is clipped to the image, with
// integer division as in the CutMix and RecursiveMix references:
//   x1 = clip(cx - cut_w / 2, 0, W)   x2 = clip(cx + cut_w / 2, 0, W)   (likewise y with H)
// so a box near the border is smaller than asked, and the mixing weight is recomputed from the
// area actually pasted:  lam = 1 - (x2 - x1) * (y2 - y1) / (W * H).
#pragma once

#include <cstdint>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace remix::augment {

struct Box {
  int64_t x1 = 0, y1 = 0, x2 = 0, y2 = 0;

  int64_t width() const { return x2 - x1; }
  int64_t height() const { return y2 - y1; }
  int64_t area() const { return width() * height(); }
  bool empty() const { return area() == 0; }
  bool operator==(const Box&) const = default;
};

// The cut_w x cut_h box centred on (cx, cy), clipped to the H x W image.
Box centred_box(int64_t cx, int64_t cy, int64_t cut_w, int64_t cut_h, int64_t H, int64_t W);

// The box covering `area_ratio` (in [0, 1]) of the image before clipping, centred on (cx, cy):
// r = sqrt(area_ratio), cut_w = floor(W * r), cut_h = floor(H * r).
Box box_at(int64_t cx, int64_t cy, double area_ratio, int64_t H, int64_t W);

// box_at with a uniform centre: cx ~ U{0..W-1} is drawn first, then cy ~ U{0..H-1}.
Box draw_box(Generator& gen, int64_t H, int64_t W, double area_ratio);

// The share of the image outside the box: 1 - area / (H * W).
double lam_of(const Box& box, int64_t H, int64_t W);

// The box as the i32 [1, 4] tensor (x1, y1, x2, y2) that the paste kernels read, on `device`.
Tensor box_tensor(const Box& box, Device device);

// The box repeated on n rows as N x 4 f32 pixel coordinates: the ROI-Align boxes.
Tensor roi_boxes(const Box& box, int64_t n, Device device);

}  // namespace remix::augment
