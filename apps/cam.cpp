#include "apps/cam.h"

#include <algorithm>
#include <cmath>

#include "autograd/ops.h"

namespace remix::app {

ClassActivationMaps class_activation_maps(nn::Classifier& model, const Tensor& images) {
  NoGradGuard no_grad;
  const Tensor features = model.features(images);  // N x h x w x C
  REMIX_CHECK(features.dim() == 4 && features.size(3) == model.feature_channels(),
              "class_activation_maps: expected N x h x w x {} features, got {}",
              model.feature_channels(), to_string(features.shape()));
  const Tensor logits = model.fc().forward(global_avg_pool(features));
  const std::vector<float> f = cast(features, DType::f32).to_vector<float>();
  const std::vector<float> z = cast(logits, DType::f32).to_vector<float>();
  const std::vector<float> weight = model.fc().weight().to_vector<float>();  // classes x C
  const int64_t n = features.size(0), channels = features.size(3), classes = model.num_classes();
  ClassActivationMaps out;
  out.height = features.size(1);
  out.width = features.size(2);
  const int64_t pixels = out.height * out.width;
  out.maps.assign(static_cast<size_t>(n * pixels), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const auto row = z.begin() + i * classes;
    const int64_t k = std::max_element(row, row + classes) - row;
    out.predicted.push_back(k);
    float* map = out.maps.data() + i * pixels;
    for (int64_t p = 0; p < pixels; ++p) {
      double sum = 0;
      for (int64_t c = 0; c < channels; ++c)
        sum += static_cast<double>(weight[static_cast<size_t>(k * channels + c)]) *
               f[static_cast<size_t>((i * pixels + p) * channels + c)];
      map[p] = std::max(0.0f, static_cast<float>(sum));
    }
    const float top = *std::max_element(map, map + pixels);
    if (top > 0)
      for (int64_t p = 0; p < pixels; ++p) map[p] /= top;
  }
  return out;
}

std::vector<float> resize_bilinear(const std::vector<float>& map, int64_t in_h, int64_t in_w,
                                   int64_t out_h, int64_t out_w) {
  REMIX_CHECK(in_h > 0 && in_w > 0 && out_h > 0 && out_w > 0 &&
                  map.size() == static_cast<size_t>(in_h * in_w),
              "resize_bilinear: {} values for a {} x {} map resized to {} x {}", map.size(), in_h,
              in_w, out_h, out_w);
  // Source position of an output index and its two neighbours with their weights.
  struct Tap {
    int64_t lo, hi;
    float t;
  };
  const auto taps = [](int64_t in, int64_t out) {
    std::vector<Tap> t;
    for (int64_t o = 0; o < out; ++o) {
      const double s = std::clamp((static_cast<double>(o) + 0.5) * static_cast<double>(in) /
                                          static_cast<double>(out) - 0.5,
                                  0.0, static_cast<double>(in - 1));
      const auto lo = static_cast<int64_t>(std::floor(s));
      t.push_back({lo, std::min(lo + 1, in - 1), static_cast<float>(s - static_cast<double>(lo))});
    }
    return t;
  };
  const std::vector<Tap> ys = taps(in_h, out_h), xs = taps(in_w, out_w);
  const auto at = [&](int64_t y, int64_t x) { return map[static_cast<size_t>(y * in_w + x)]; };
  std::vector<float> out;
  out.reserve(static_cast<size_t>(out_h * out_w));
  for (const Tap& y : ys)
    for (const Tap& x : xs) {
      const float top = at(y.lo, x.lo) * (1 - x.t) + at(y.lo, x.hi) * x.t;
      const float bottom = at(y.hi, x.lo) * (1 - x.t) + at(y.hi, x.hi) * x.t;
      out.push_back(top * (1 - y.t) + bottom * y.t);
    }
  return out;
}

Rgb heat_colour(float v) {
  // Piecewise linear through blue, cyan, green, yellow, red at v = 0, 1/4, 1/2, 3/4, 1.
  static const float kStops[5][3] = {{0, 0, 255}, {0, 255, 255}, {0, 255, 0}, {255, 255, 0},
                                     {255, 0, 0}};
  const float s = std::clamp(v, 0.0f, 1.0f) * 4;
  const int i = std::min(3, static_cast<int>(s));
  const float t = s - static_cast<float>(i);
  const auto channel = [&](int c) {
    return static_cast<uint8_t>(std::lround(kStops[i][c] * (1 - t) + kStops[i + 1][c] * t));
  };
  return {channel(0), channel(1), channel(2)};
}

namespace {

constexpr int kMargin = 8, kLabelWidth = 120, kCaption = 16;
constexpr Rgb kInk{20, 20, 20}, kRight{0, 130, 0}, kWrong{200, 0, 0};

std::vector<uint8_t> image_at(const std::vector<uint8_t>& nhwc, int64_t i, int64_t h, int64_t w) {
  const auto begin = nhwc.begin() + i * h * w * 3;
  return {begin, begin + h * w * 3};
}

// Text cut to fit `width` pixels.
std::string fitted(std::string text, int width) {
  while (text.size() > 1 && Canvas::text_width(text) > width) text.pop_back();
  return text;
}

}  // namespace

Canvas draw_cam_grid(const std::vector<uint8_t>& images_nhwc, int64_t n, int64_t h, int64_t w,
                     const std::vector<int32_t>& labels, const std::vector<std::string>& class_names,
                     const std::vector<CamRow>& rows, int scale) {
  REMIX_CHECK(images_nhwc.size() == static_cast<size_t>(n * h * w * 3) &&
                  labels.size() == static_cast<size_t>(n),
              "draw_cam_grid: expected {} RGB images of {} x {} with their labels", n, h, w);
  const int cell_w = static_cast<int>(w) * scale, cell_h = static_cast<int>(h) * scale;
  const int column = cell_w + kMargin, line = cell_h + kCaption + kMargin;
  Canvas canvas(kLabelWidth + static_cast<int>(n) * column + kMargin,
                kMargin + line * static_cast<int>(rows.size() + 1));
  const auto name = [&](int64_t k) { return class_names.at(static_cast<size_t>(k)); };
  canvas.text("image", kMargin, kMargin + cell_h / 2, kInk);
  for (size_t r = 0; r < rows.size(); ++r)
    canvas.text(fitted(rows[r].label, kLabelWidth - 2 * kMargin), kMargin,
                kMargin + line * static_cast<int>(r + 1) + cell_h / 2, kInk);
  for (int64_t i = 0; i < n; ++i) {
    const int x = kLabelWidth + static_cast<int>(i) * column;
    const std::vector<uint8_t> image = image_at(images_nhwc, i, h, w);
    canvas.paste(image, static_cast<int>(h), static_cast<int>(w), x, kMargin, scale);
    canvas.text(fitted(name(labels[static_cast<size_t>(i)]), cell_w), x, kMargin + cell_h + 4, kInk);
    for (size_t r = 0; r < rows.size(); ++r) {
      const ClassActivationMaps& cams = rows[r].cams;
      const int y = kMargin + line * static_cast<int>(r + 1);
      canvas.paste(image, static_cast<int>(h), static_cast<int>(w), x, y, scale);
      const auto begin = cams.maps.begin() + i * cams.height * cams.width;
      const std::vector<float> big = resize_bilinear({begin, begin + cams.height * cams.width},
                                                     cams.height, cams.width, cell_h, cell_w);
      for (int py = 0; py < cell_h; ++py)
        for (int px = 0; px < cell_w; ++px)
          canvas.blend(x + px, y + py, heat_colour(big[static_cast<size_t>(py * cell_w + px)]),
                       0.5f);
      const int64_t k = cams.predicted[static_cast<size_t>(i)];
      canvas.text(fitted(name(k), cell_w), x, y + cell_h + 4,
                  k == labels[static_cast<size_t>(i)] ? kRight : kWrong);
    }
  }
  return canvas;
}

}  // namespace remix::app
