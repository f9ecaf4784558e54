// Class-activation maps (Zhou et al., 2016) of a classifier with a global-pool head:
//   cam_n(h, w) = ReLU( sum_c W[k_n, c] * F_n(h, w, c) ) / max_(h,w) of the same
// where F_n is the last feature map of image n (h x w x C, before the global average pool), W the
// fc weight (classes x C) and k_n the predicted class (argmax of the logits); a map whose maximum
// is not positive stays zero. Up-sampled bilinearly to the image and drawn as a heat map over it
// by remix-cam, as the RecursiveMix paper compares where models look.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/canvas.h"
#include "nn/models/classifier.h"

namespace remix::app {

struct ClassActivationMaps {
  int64_t height = 0, width = 0;     // of the feature map
  std::vector<float> maps;           // N x height x width, each in [0, 1]
  std::vector<int64_t> predicted;    // N: argmax of the logits
};

// `images`: the model's input (N x H x W x C, on the model's device, in its dtype).
ClassActivationMaps class_activation_maps(nn::Classifier& model, const Tensor& images);

// Bilinear resize with half-pixel centres (align_corners=False):
//   source coordinate of output x = (x + 0.5) * in_w / out_w - 0.5, clamped to [0, in_w - 1].
std::vector<float> resize_bilinear(const std::vector<float>& map, int64_t in_h, int64_t in_w,
                                   int64_t out_h, int64_t out_w);

// A heat colour for v in [0, 1]: blue (0), cyan, green, yellow, red (1).
Rgb heat_colour(float v);

// One figure: per image a column; a first row with the image and its true class, then one row per
// model with its map over the image and its predicted class (green when right, red when wrong).
struct CamRow {
  std::string label;  // names the model at the left, e.g. "resnet20/rm"
  ClassActivationMaps cams;
};
Canvas draw_cam_grid(const std::vector<uint8_t>& images_nhwc, int64_t n, int64_t h, int64_t w,
                     const std::vector<int32_t>& labels, const std::vector<std::string>& class_names,
                     const std::vector<CamRow>& rows, int scale);

}  // namespace remix::app
