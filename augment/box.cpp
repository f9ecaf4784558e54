// Box arithmetic: see box.h for the formulas and the references they follow.
#include "augment/box.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/check.h"

namespace remix::augment {

Box centred_box(int64_t cx, int64_t cy, int64_t cut_w, int64_t cut_h, int64_t H, int64_t W) {
  REMIX_CHECK(H > 0 && W > 0 && cut_w >= 0 && cut_h >= 0,
              "centred_box: expected a non-empty image and a non-negative box side, got image "
              "{}x{} and box {}x{}",
              H, W, cut_h, cut_w);
  return Box{std::clamp<int64_t>(cx - cut_w / 2, 0, W), std::clamp<int64_t>(cy - cut_h / 2, 0, H),
             std::clamp<int64_t>(cx + cut_w / 2, 0, W), std::clamp<int64_t>(cy + cut_h / 2, 0, H)};
}

Box box_at(int64_t cx, int64_t cy, double area_ratio, int64_t H, int64_t W) {
  REMIX_CHECK(area_ratio >= 0.0 && area_ratio <= 1.0,
              "box_at: the area ratio must lie in [0, 1], got {}", area_ratio);
  const double r = std::sqrt(area_ratio);
  const auto cut_w = static_cast<int64_t>(std::floor(static_cast<double>(W) * r));
  const auto cut_h = static_cast<int64_t>(std::floor(static_cast<double>(H) * r));
  return centred_box(cx, cy, cut_w, cut_h, H, W);
}

Box draw_box(Generator& gen, int64_t H, int64_t W, double area_ratio) {
  const int64_t cx = gen.randint(W);
  const int64_t cy = gen.randint(H);
  return box_at(cx, cy, area_ratio, H, W);
}

double lam_of(const Box& box, int64_t H, int64_t W) {
  return 1.0 - static_cast<double>(box.area()) / static_cast<double>(H * W);
}

Tensor box_tensor(const Box& box, Device device) {
  const std::vector<int32_t> values = {static_cast<int32_t>(box.x1), static_cast<int32_t>(box.y1),
                                       static_cast<int32_t>(box.x2), static_cast<int32_t>(box.y2)};
  return Tensor::from_vector(values, {1, 4}, device);
}

Tensor roi_boxes(const Box& box, int64_t n, Device device) {
  std::vector<float> values;
  values.reserve(static_cast<size_t>(4 * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t v : {box.x1, box.y1, box.x2, box.y2}) values.push_back(static_cast<float>(v));
  return Tensor::from_vector(values, {n, 4}, device);
}

}  // namespace remix::augment
