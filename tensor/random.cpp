#include "tensor/random.h"

#include <cmath>
#include <numbers>
#include <sstream>

#include "tensor/check.h"

namespace remix {

double Generator::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

double Generator::uniform(double low, double high) { return low + (high - low) * uniform(); }

int64_t Generator::randint(int64_t n) {
  REMIX_CHECK(n > 0, "Generator::randint({}): expected a positive range", n);
  // Reject the top partial block so that every value is equally likely.
  const uint64_t range = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t r;
  do r = engine_();
  while (r >= limit);
  return static_cast<int64_t>(r % range);
}

std::pair<double, double> Generator::normal_pair() {
  // Box-Muller: r = sqrt(-2 ln u1), angle 2 pi u2 give r cos and r sin, independent N(0, 1).
  const double u1 = 1.0 - uniform();  // (0, 1]
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * std::numbers::pi * u2;
  return {r * std::cos(angle), r * std::sin(angle)};
}

// One value per call keeps the generator's state just the engine's (no cached second value).
double Generator::normal() { return normal_pair().first; }

double Generator::gamma(double shape) {
  REMIX_CHECK(shape > 0, "Generator::gamma({}): expected a positive shape", shape);
  if (shape < 1.0) {  // Gamma(a) = Gamma(a + 1) * U^(1/a)
    const double u = 1.0 - uniform();
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  // Marsaglia & Tsang (2000), "A simple method for generating gamma variables".
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

double Generator::beta(double a, double b) {
  const double x = gamma(a);
  const double y = gamma(b);
  return x / (x + y);
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[randint(i + 1)]);
  return p;
}

std::string Generator::state() const {
  std::ostringstream os;
  os << engine_;
  return os.str();
}

void Generator::set_state(const std::string& text) {
  std::istringstream is(text);
  std::mt19937_64 engine;
  is >> engine;
  REMIX_CHECK(!is.fail(), "Generator::set_state: the text is not a saved generator state");
  engine_ = engine;
}

}  // namespace remix
