// RoiAlign: ROI-Align (Mask R-CNN) of NHWC feature maps over one box per image, as
// torchvision.ops.roi_align. Boxes are N x 4 f32 (x1, y1, x2, y2) in input-image coordinates;
// spatial_scale = feature size / image size maps them onto the features. Each output bin averages
// bilinear samples: sampling_ratio per side, or ceil(box size / output size) when <= 0
// (adaptive); aligned subtracts half a pixel so that coordinates refer to pixel centres.
// Output: N x output_h x output_w x C. The boxes receive no gradient.
#pragma once

#include "nn/module.h"
#include "tensor/backend.h"

namespace remix::nn {

struct RoiAlignOptions {
  int64_t output_h = 1;
  int64_t output_w = 1;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = -1;
  bool aligned = true;
};

class RoiAlign : public Module {
 public:
  explicit RoiAlign(const RoiAlignOptions& options);
  Tensor forward(const Tensor& features, const Tensor& boxes);

 private:
  RoiAlignParams params_;
};

}  // namespace remix::nn
