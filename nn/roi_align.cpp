// RoiAlign layer (the arithmetic is remix::roi_align in autograd/functions/roi_align.cpp).
#include "nn/roi_align.h"

#include "autograd/ops.h"

namespace remix::nn {

RoiAlign::RoiAlign(const RoiAlignOptions& options) : Module("RoiAlign") {
  REMIX_CHECK(options.output_h > 0 && options.output_w > 0 && options.spatial_scale > 0,
              "RoiAlign: expected a positive output size and spatial scale, got {}x{} and {}",
              options.output_h, options.output_w, options.spatial_scale);
  params_ = {options.output_h, options.output_w, options.spatial_scale, options.sampling_ratio,
             options.aligned};
}

Tensor RoiAlign::forward(const Tensor& features, const Tensor& boxes) {
  REMIX_CHECK(features.dim() == 4, "RoiAlign: expected N x H x W x C features, got {}",
              to_string(features.shape()));
  REMIX_CHECK(boxes.dim() == 2 && boxes.size(0) == features.size(0) && boxes.size(1) == 4,
              "RoiAlign: expected {} x 4 boxes (one per image), got {}", features.size(0),
              to_string(boxes.shape()));
  return traced(roi_align(features, boxes, params_));
}

}  // namespace remix::nn
