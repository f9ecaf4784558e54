// The synthetic shapes-and-textures dataset (see data/synthetic.h). Each class is a signed
// distance function d(x, y) in pixels (negative inside the foreground); a pixel's foreground
// coverage is clamp(0.5 - d, 0, 1), which anti-aliases edges with a single sample per pixel.
#include "data/synthetic.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "tensor/random.h"

namespace remix::data {

namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kClasses = 10;
constexpr float kPi = std::numbers::pi_v<float>;

// The classes, in label order.
enum Class : int64_t {
  kDisc,
  kRing,
  kSquare,
  kHStripes,
  kVStripes,
  kDiagonal,
  kChecker,
  kCross,
  kTriangle,
  kDots
};

// Everything one image needs, drawn in a fixed order whatever its class.
struct Scene {
  int64_t cls = 0;
  float cx = 16, cy = 16;  // shape centre
  float size = 8;          // radius, half-side, arm length or inradius, by class
  float thickness = 2;     // outline width (ring, square) or arm half-width (cross)
  float cos_a = 1, sin_a = 0;
  float period = 6;  // stripes, checker cells and dot spacing
  float phase_u = 0, phase_v = 0;
  std::array<float, 3> fg{}, bg{};
  float noise = 0;  // noise amplitude, in grey levels
};

float fract(float v) {
  return v - std::floor(v);
}

// Triangle-wave stripes of period p along coordinate s: the "on" half is centred on s = 0.
float stripes(float s, float p) {
  return (0.25f - std::fabs(fract(s / p) - 0.5f)) * p;
}

float box(float u, float v, float half_u, float half_v) {
  return std::max(std::fabs(u) - half_u, std::fabs(v) - half_v);
}

float signed_distance(const Scene& s, float x, float y) {
  const float dx = x - s.cx, dy = y - s.cy;
  const float u = s.cos_a * dx + s.sin_a * dy;  // coordinates rotated by the scene's angle
  const float v = -s.sin_a * dx + s.cos_a * dy;
  const float pu = u + s.phase_u, pv = v + s.phase_v;
  switch (s.cls) {
    case kDisc:
      return std::sqrt(dx * dx + dy * dy) - s.size;
    case kRing:
      return std::fabs(std::sqrt(dx * dx + dy * dy) - s.size) - s.thickness / 2;
    case kSquare:
      return std::fabs(box(u, v, s.size, s.size)) - s.thickness / 2;
    case kHStripes:  // the three differ by their angle only
    case kVStripes:
    case kDiagonal:
      return stripes(pv, s.period);
    case kChecker: {  // cells of side `period`, coloured by the parity of their row + column
      const float cu = std::floor(pu / s.period), cv = std::floor(pv / s.period);
      const float a = pu / s.period - cu, b = pv / s.period - cv;
      const float to_edge = std::min({a, 1 - a, b, 1 - b}) * s.period;
      const bool on = (static_cast<int64_t>(cu) + static_cast<int64_t>(cv)) % 2 != 0;
      return on ? -to_edge : to_edge;
    }
    case kCross:
      return std::min(box(u, v, s.size, s.thickness), box(u, v, s.thickness, s.size));
    case kTriangle: {  // equilateral: the largest distance past its three edges
      float d = -1e9f;
      for (int k = 0; k < 3; ++k) {
        const float a = kPi / 2 + k * 2 * kPi / 3;
        d = std::max(d, std::cos(a) * u + std::sin(a) * v);
      }
      return d - s.size;
    }
    default: {  // kDots: a dot of radius `thickness` in every cell of a square grid
      const float a = fract(pu / s.period) - 0.5f, b = fract(pv / s.period) - 0.5f;
      return std::sqrt(a * a + b * b) * s.period - s.thickness;
    }
  }
}

float between(Generator& g, float low, float high) {
  return static_cast<float>(g.uniform(low, high));
}

std::array<float, 3> random_colour(Generator& g) {
  return {between(g, 0, 255), between(g, 0, 255), between(g, 0, 255)};
}

float distance(const std::array<float, 3>& a, const std::array<float, 3>& b) {
  return std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

// How each class is drawn: its rotation (a base angle plus a uniform jitter of up to
// +-jitter degrees, mirrored at random for the diagonal stripes), the range of its size
// (radius, half-side, arm length or inradius) and of its period (stripe period, checker cell
// side, dot spacing). Classes without a size or a period ignore those draws.
struct ClassStyle {
  float angle, jitter;
  bool mirror;
  float size_min, size_max;
  float period_min, period_max;
};

// clang-format off
constexpr std::array<ClassStyle, kClasses> kStyles = {{
    //  angle jitter mirror  size         period
    {   0,  180,  false,  5,    9,    4, 8},   // disc
    {   0,  180,  false,  5.5f, 9,    4, 8},   // ring
    {   0,  180,  false,  5,    8.5f, 4, 8},   // square
    {   0,   12,  false,  0,    0,    4, 8},   // horizontal stripes
    {  90,   12,  false,  0,    0,    4, 8},   // vertical stripes
    {  45,    8,  true,   0,    0,    4, 8},   // diagonal stripes, either way
    {   0,   12,  false,  0,    0,    4, 7},   // checkerboard (cell side)
    {   0,   15,  false,  6,   10,    4, 8},   // cross
    {   0,  180,  false,  3.5f, 5.5f, 4, 8},   // triangle
    {   0,   10,  false,  0,    0,    5, 8},   // dots grid
}};
// clang-format on

Scene draw_scene(int64_t cls, Generator& g) {
  const ClassStyle& style = kStyles[cls];
  Scene s;
  s.cls = cls;
  s.cx = between(g, 12, 20);
  s.cy = between(g, 12, 20);
  s.size = between(g, style.size_min, style.size_max);
  s.thickness = cls == kDots ? between(g, 1.1f, 1.8f)   // dot radius
                             : between(g, 1.5f, 3.0f);  // outline width or arm half-width
  const bool mirrored = style.mirror && g.uniform() < 0.5;
  const float degrees = (style.angle + style.jitter * between(g, -1, 1)) * (mirrored ? -1 : 1);
  s.cos_a = std::cos(degrees * kPi / 180);
  s.sin_a = std::sin(degrees * kPi / 180);
  s.period = between(g, style.period_min, style.period_max);
  s.phase_u = between(g, 0, s.period);
  s.phase_v = between(g, 0, s.period);
  // Independent colours from one distribution, redrawn until they differ enough to be seen.
  s.bg = random_colour(g);
  do s.fg = random_colour(g);
  while (distance(s.fg, s.bg) < 100);
  s.noise = between(g, 4, 24);
  return s;
}

void render(const Scene& s, Generator& g, uint8_t* out) {
  uint64_t bits = 0;
  int bytes_left = 0;
  auto noise = [&] {  // triangular noise in [-1, 1]: the sum of two uniform bytes
    if (bytes_left < 2) bits = g.next_u64(), bytes_left = 8;
    const int a = static_cast<int>(bits & 0xff), b = static_cast<int>((bits >> 8) & 0xff);
    bits >>= 16;
    bytes_left -= 2;
    return static_cast<float>(a + b - 255) / 255.0f;
  };
  for (int64_t y = 0; y < kSide; ++y)
    for (int64_t x = 0; x < kSide; ++x) {
      const float d =
          signed_distance(s, static_cast<float>(x) + 0.5f, static_cast<float>(y) + 0.5f);
      const float alpha = std::clamp(0.5f - d, 0.0f, 1.0f);
      for (int c = 0; c < 3; ++c) {
        const float v = s.bg[c] + alpha * (s.fg[c] - s.bg[c]) + s.noise * noise();
        *out++ = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
}

}  // namespace

const std::vector<std::string>& synthetic_class_names() {
  static const std::vector<std::string> names = {"disc",     "ring",     "square",  "hstripes",
                                                 "vstripes", "diagonal", "checker", "cross",
                                                 "triangle", "dots"};
  return names;
}

Dataset make_synthetic(Split split, const SyntheticOptions& options) {
  const int64_t n = split == Split::train ? options.train_images : options.test_images;
  REMIX_CHECK(n > 0, "synthetic dataset: the {} split needs a positive size, got {}",
              split == Split::train ? "train" : "test", n);
  Dataset d;
  d.images = Tensor({n, kSide, kSide, 3}, DType::u8);
  d.labels = Tensor({n}, DType::i32);
  d.num_classes = kClasses;
  d.class_names = synthetic_class_names();
  uint8_t* images = d.images.data<uint8_t>();
  int32_t* labels = d.labels.data<int32_t>();
  const uint64_t split_id = split == Split::train ? 0 : 1;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    Generator g(derive_seed({options.seed, split_id, static_cast<uint64_t>(i)}));
    const int64_t cls = i % kClasses;
    render(draw_scene(cls, g), g, images + i * kSide * kSide * 3);
    labels[i] = static_cast<int32_t>(cls);
  }
  return d;
}

}  // namespace remix::data
