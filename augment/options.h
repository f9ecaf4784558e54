// Every setting of the batch augmentations, declared once.
//
// AugmentOptions is the struct that make_augmentation() (augment/registry.h) receives; each
// augmentation reads the fields it needs and checks them when it is made. Defaults are the
// published ones. augment_settings() declares how each field is exposed: its config.json key,
// its command-line flag, its help and the values it accepts. The training app embeds
// AugmentOptions in its TrainConfig and builds --help, config.json and the range checks from
// this declaration alone, so a new setting is one field here and one row in options.cpp.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <variant>
#include <vector>

#include "nn/option_range.h"
#include "tensor/backend.h"

namespace remix::augment {

struct AugmentOptions {
  int64_t num_classes = 0;  // K of the targets; 0: not checked (set by the caller, not a setting)

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
  bool rm_keep_history = false;  // keep the history across epochs (the reference resets it)
};

// One field of AugmentOptions as a setting. The flag is the key with '-' for '_'
// (rm_omega: --rm-omega).
struct AugmentSetting {
  std::string key;   // in config.json
  std::string help;  // for --help; the range, or on/off, and the default are added to it
  std::variant<int64_t AugmentOptions::*, double AugmentOptions::*, bool AugmentOptions::*,
               Interpolation AugmentOptions::*>
      field;
  OptionRange range = {};    // numbers only
  std::string off_flag = {};  // on/off settings turned off by a flag of their own ("--rm-no-rs")
};

// The settings in --help order.
const std::vector<AugmentSetting>& augment_settings();
std::string flag_of(const AugmentSetting& setting);  // "--rm-omega"

// Throws a remix::Error "--rm-omega must be in [0, 1000], got -1" for the first value outside
// its declared range.
void check_settings(const AugmentOptions& options);

// config.json's "augment" object: one key per setting (num_classes is not a setting). Keys
// missing from `json` keep their values; a wrong type throws nlohmann's type_error, an unknown
// interpolation name a remix::Error.
void to_json(nlohmann::json& json, const AugmentOptions& options);
void from_json(const nlohmann::json& json, AugmentOptions& options);

// "nearest" / "bilinear", both ways; an unknown name throws a remix::Error listing the valid ones.
Interpolation interpolation_from_name(const std::string& name);
std::string interpolation_name(Interpolation mode);

}  // namespace remix::augment
