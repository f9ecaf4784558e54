// Explicit, seeded random numbers. Nothing in remix uses a global generator: every function that
// draws takes a Generator&, so a run is reproduced by its seed, and a checkpoint can store the
// generator's state to resume exactly. The engine is std::mt19937_64 (fully specified by the
// standard); the distributions are written here so that results do not depend on the library.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace remix {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : engine_(seed) {}

  uint64_t next_u64() { return engine_(); }
  double uniform();                          // [0, 1), 53 random bits
  double uniform(double low, double high);   // [low, high)
  int64_t randint(int64_t n);                // uniform on {0, ..., n-1}, unbiased
  double normal();                           // standard normal (Box-Muller)
  // Two independent standard normals from one Box-Muller transform (for filling tensors).
  std::pair<double, double> normal_pair();
  double gamma(double shape);                // Gamma(shape, 1), Marsaglia-Tsang
  double beta(double a, double b);           // X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b)
  std::vector<int64_t> permutation(int64_t n);  // Fisher-Yates

  // The engine state as text, for checkpoints.
  std::string state() const;
  void set_state(const std::string& text);

 private:
  std::mt19937_64 engine_;
};

}  // namespace remix
