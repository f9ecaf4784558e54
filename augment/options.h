// Every setting of the batch augmentations, in one struct that the training app fills from its
// command line and hands to make_augmentation() (augment/registry.h). Each augmentation reads
// the fields it needs and checks them when it is made. Defaults are the published ones.
#pragma once

#include <cstdint>
#include <string>

#include "tensor/backend.h"

namespace remix::augment {

struct AugmentOptions {
  int64_t num_classes = 0;  // K of the targets; 0: not checked

  // Cutout (DeVries & Taylor, 2017): side of the square set to zero.
  int64_t cutout_size = 16;

  // Mixup (Zhang et al., 2018): lam ~ Beta(alpha, alpha).
  double mixup_alpha = 1.0;

  // CutMix (Yun et al., 2019): box area ratio ~ Beta(beta, beta), applied with probability prob.
  double cutmix_beta = 1.0;
  double cutmix_prob = 0.5;

  // RecursiveMix (docs/RECURSIVEMIX.md): box area ratio ~ U(0, alpha); consistency weight omega.
  double rm_alpha = 0.5;
  double rm_omega = 0.5;
  Interpolation rm_interpolation = Interpolation::nearest;
  // The paper's ablation switches; all three off is CutMix with beta 1, prob 1.
  bool rm_resize = true;        // RS: resize the whole source image into the box (off: same region)
  bool rm_history = true;       // HS: the source is the previous step (off: the permuted batch)
  bool rm_consistency = true;   // CL: the ROI consistency loss (needs HS)
  bool rm_shared_head = false;  // the ROI head uses fc instead of its own fc_roi
  bool rm_reset_each_epoch = true;  // forget the history at every epoch start (the reference)
};

// "nearest" / "bilinear", both ways; an unknown name throws a remix::Error listing the valid ones.
Interpolation interpolation_from_name(const std::string& name);
std::string interpolation_name(Interpolation mode);

}  // namespace remix::augment
