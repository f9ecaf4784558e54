// The declaration of every augmentation setting (see options.h), and what follows from it.
#include "augment/options.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tensor/check.h"

namespace remix::augment {

namespace {

using O = AugmentOptions;
constexpr OptionRange kCutoutSize = integer_range(1, 1024);
constexpr OptionRange kBetaParameter = real_range(0, 1000, true, false);
constexpr OptionRange kProbability = real_range(0, 1, false, false);
constexpr OptionRange kRmAlpha = real_range(0, 1, true, false);
constexpr OptionRange kRmOmega = real_range(0, 1000, false, false);

// Overloaded lambdas for std::visit over a setting's field.
template <class... F>
struct Visitor : F... {
  using F::operator()...;
};
template <class... F>
Visitor(F...) -> Visitor<F...>;  // clang before 17 deduces no aggregate's template arguments

}  // namespace

const std::vector<AugmentSetting>& augment_settings() {
  static const std::vector<AugmentSetting> settings = {
      {"cutout_size", "Cutout: side of the erased square (pixels)", &O::cutout_size, kCutoutSize},
      {"mixup_alpha", "Mixup: lam ~ Beta(alpha, alpha)", &O::mixup_alpha, kBetaParameter},
      {"cutmix_beta", "CutMix: lam ~ Beta(beta, beta)", &O::cutmix_beta, kBetaParameter},
      {"cutmix_prob", "CutMix: probability of mixing a batch", &O::cutmix_prob, kProbability},
      {"rm_alpha", "RecursiveMix: largest area ratio of the box", &O::rm_alpha, kRmAlpha},
      {"rm_omega", "RecursiveMix: weight of the consistency loss", &O::rm_omega, kRmOmega},
      {"rm_interp", "RecursiveMix: resize of the historical batch",
       &O::rm_interpolation},
      {"rm_rs",
       "RecursiveMix: resize the whole historical image into the box; --rm-no-rs cuts the box "
       "region as CutMix does",
       &O::rm_resize, {}, "--rm-no-rs"},
      {"rm_hs",
       "RecursiveMix: paste from the previous step's batch; --rm-no-hs pastes from a shuffled "
       "copy of the current batch",
       &O::rm_history, {}, "--rm-no-hs"},
      {"rm_cl", "RecursiveMix: the ROI consistency loss", &O::rm_consistency, {}, "--rm-no-cl"},
      {"rm_shared_head", "RecursiveMix: the ROI head shares fc instead of its own fc_roi",
       &O::rm_shared_head},
      {"rm_keep_history",
       "RecursiveMix: keep the history across epochs instead of resetting it at each epoch start "
       "as the reference does",
       &O::rm_keep_history},
  };
  return settings;
}

std::string flag_of(const AugmentSetting& setting) {
  std::string flag = "--" + setting.key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

void check_settings(const AugmentOptions& options) {
  for (const AugmentSetting& s : augment_settings())
    std::visit(Visitor{[&](int64_t O::*f) { check_in_range(flag_of(s), options.*f, s.range); },
                       [&](double O::*f) { check_in_range(flag_of(s), options.*f, s.range); },
                       [](bool O::*) {}, [](Interpolation O::*) {}},
               s.field);
}

void to_json(nlohmann::json& json, const AugmentOptions& options) {
  json = nlohmann::json::object();
  for (const AugmentSetting& s : augment_settings())
    std::visit(Visitor{[&](Interpolation O::*f) { json[s.key] = interpolation_name(options.*f); },
                       [&](auto f) { json[s.key] = options.*f; }},
               s.field);
}

void from_json(const nlohmann::json& json, AugmentOptions& options) {
  for (const AugmentSetting& s : augment_settings()) {
    if (!json.contains(s.key)) continue;
    const nlohmann::json& value = json.at(s.key);
    std::visit(Visitor{[&](Interpolation O::*f) {
                         options.*f = interpolation_from_name(value.get<std::string>());
                       },
                       [&](auto f) { value.get_to(options.*f); }},
               s.field);
  }
}

Interpolation interpolation_from_name(const std::string& name) {
  if (name == "nearest") return Interpolation::nearest;
  if (name == "bilinear") return Interpolation::bilinear;
  throw_error(fmt::format("unknown interpolation \"{}\": expected nearest or bilinear", name));
}

std::string interpolation_name(Interpolation mode) {
  return mode == Interpolation::nearest ? "nearest" : "bilinear";
}

}  // namespace remix::augment
