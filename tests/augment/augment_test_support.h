// Helpers for the augment/ tests: small random batches with one-hot targets, exact comparison,
// and pixel access on NHWC f32 tensors.
#pragma once

#include <cmath>
#include <vector>

#include "augment/augmentation.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix::augment::testing {

struct Batch {
  Tensor images;   // N x H x W x C f32 in [-1, 1)
  Tensor targets;  // N x K one-hot f32
};

inline Batch random_batch(Generator& gen, int64_t N, int64_t H, int64_t W, int64_t C, int64_t K) {
  std::vector<int32_t> labels;
  for (int64_t n = 0; n < N; ++n) labels.push_back(static_cast<int32_t>(gen.randint(K)));
  return {remix::testing::random_tensor({N, H, W, C}, gen),
          prim::one_hot(Tensor::from_vector(labels, {N}), K)};
}

// Element for element equality (no tolerance).
inline ::testing::AssertionResult identical(const Tensor& actual, const Tensor& expected) {
  return remix::testing::all_close(actual, expected, 0.0, 0.0);
}

// Read-only view of an N x H x W x C f32 tensor copied to the host.
struct Pixels {
  explicit Pixels(const Tensor& t)
      : values(t.to_vector<float>()), H(t.size(1)), W(t.size(2)), C(t.size(3)) {}
  float at(int64_t n, int64_t y, int64_t x, int64_t c) const {
    return values[static_cast<size_t>(((n * H + y) * W + x) * C + c)];
  }
  std::vector<float> values;
  int64_t H, W, C;
};

// softmax over each row of an N x K f32 tensor, in double on the host.
inline std::vector<double> softmax_rows(const Tensor& logits) {
  const std::vector<float> z = logits.to_vector<float>();
  const int64_t N = logits.size(0), K = logits.size(1);
  std::vector<double> p(z.size());
  for (int64_t n = 0; n < N; ++n) {
    double max = z[n * K], total = 0;
    for (int64_t k = 0; k < K; ++k) max = std::max(max, static_cast<double>(z[n * K + k]));
    for (int64_t k = 0; k < K; ++k) total += std::exp(z[n * K + k] - max);
    for (int64_t k = 0; k < K; ++k) p[n * K + k] = std::exp(z[n * K + k] - max) / total;
  }
  return p;
}

}  // namespace remix::augment::testing
