// The CPU log-softmax, cross-entropy and one-hot primitives against double-precision loops,
// including rows with large logits (where a naive exp overflows) and soft targets: one-hot rows,
// label-smoothed rows, and rows that do not sum to 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::random_tensor;

// log_softmax of one row in double, from its definition with the maximum subtracted.
std::vector<double> naive_log_softmax(const float* z, int64_t K) {
  double m = z[0];
  for (int64_t k = 1; k < K; ++k) m = std::max(m, double(z[k]));
  double sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += std::exp(double(z[k]) - m);
  std::vector<double> out(K);
  for (int64_t k = 0; k < K; ++k) out[k] = double(z[k]) - m - std::log(sum);
  return out;
}

// Logits with a row shifted by +1000 and one by -1000: exp() of those would overflow/underflow.
Tensor logits_with_extreme_rows(int64_t N, int64_t K, Generator& gen) {
  std::vector<float> z = random_tensor({N, K}, gen, -5.0, 5.0).to_vector<float>();
  for (int64_t k = 0; k < K; ++k) z[k] += 1000.0f, z[K + k] -= 1000.0f;
  return Tensor::from_vector(z, {N, K});
}

TEST(LogSoftmax, MatchesADoubleReferenceOverTheLastAxis) {
  Generator gen(1);
  const Tensor x = logits_with_extreme_rows(6, 13, gen).reshape({2, 3, 13});
  const std::vector<float> xv = x.to_vector<float>();
  std::vector<float> expected;
  for (int64_t row = 0; row < 6; ++row)
    for (double v : naive_log_softmax(&xv[row * 13], 13)) expected.push_back(float(v));
  EXPECT_TRUE(all_close(prim::log_softmax_forward(x), Tensor::from_vector(expected, {2, 3, 13}),
                        1e-5, 1e-5));
}

TEST(LogSoftmax, BackwardSubtractsTheSoftmaxTimesTheGradientSum) {
  Generator gen(2);
  const Tensor x = random_tensor({5, 7}, gen, -3.0, 3.0), dy = random_tensor({5, 7}, gen);
  const Tensor y = prim::log_softmax_forward(x);
  const std::vector<float> xv = x.to_vector<float>(), dyv = dy.to_vector<float>();
  std::vector<float> expected;
  for (int64_t row = 0; row < 5; ++row) {
    const std::vector<double> log_p = naive_log_softmax(&xv[row * 7], 7);
    double dy_sum = 0;
    for (int64_t k = 0; k < 7; ++k) dy_sum += dyv[row * 7 + k];
    for (int64_t k = 0; k < 7; ++k)
      expected.push_back(float(dyv[row * 7 + k] - std::exp(log_p[k]) * dy_sum));
  }
  EXPECT_TRUE(
      all_close(prim::log_softmax_backward(dy, y), Tensor::from_vector(expected, {5, 7}), 1e-6));
}

// Targets, one row of each kind: one-hot, label-smoothed (0.1 over 5 classes), a soft mix of two
// classes (as Mixup/RecursiveMix make), and a row that sums to 0.5.
Tensor mixed_targets() {
  return Tensor::from_vector<float>({0,     0,     1,     0,     0,      //
                                     0.02f, 0.92f, 0.02f, 0.02f, 0.02f,  //
                                     0.3f,  0,     0,     0.7f,  0,      //
                                     0.1f,  0.1f,  0.1f,  0.1f,  0.1f},
                                    {4, 5});
}

TEST(CrossEntropy, ForwardMatchesADoubleReference) {
  Generator gen(3);
  const Tensor z = logits_with_extreme_rows(4, 5, gen), t = mixed_targets();
  const std::vector<float> zv = z.to_vector<float>(), tv = t.to_vector<float>();
  std::vector<float> expected;
  for (int64_t n = 0; n < 4; ++n) {
    const std::vector<double> log_p = naive_log_softmax(&zv[n * 5], 5);
    double loss = 0;
    for (int64_t k = 0; k < 5; ++k) loss -= tv[n * 5 + k] * log_p[k];
    expected.push_back(float(loss));
  }
  EXPECT_TRUE(
      all_close(prim::cross_entropy_forward(z, t), Tensor::from_vector(expected, {4}), 1e-5, 1e-5));
}

TEST(CrossEntropy, BackwardIsSoftmaxTimesTargetSumMinusTargets) {
  Generator gen(4);
  const Tensor z = logits_with_extreme_rows(4, 5, gen), t = mixed_targets();
  const Tensor dloss = Tensor::from_vector<float>({1.0f, 0.25f, -2.0f, 0.5f}, {4});
  const std::vector<float> zv = z.to_vector<float>(), tv = t.to_vector<float>();
  const std::vector<float> gv = dloss.to_vector<float>();
  std::vector<float> expected;
  for (int64_t n = 0; n < 4; ++n) {
    const std::vector<double> log_p = naive_log_softmax(&zv[n * 5], 5);
    double t_sum = 0;
    for (int64_t k = 0; k < 5; ++k) t_sum += tv[n * 5 + k];
    for (int64_t k = 0; k < 5; ++k)
      expected.push_back(float(gv[n] * (std::exp(log_p[k]) * t_sum - tv[n * 5 + k])));
  }
  EXPECT_TRUE(all_close(prim::cross_entropy_backward(dloss, z, t),
                        Tensor::from_vector(expected, {4, 5}), 1e-6, 1e-5));
}

TEST(OneHot, PlacesOnValuesAtTheLabelsWithOptionalSmoothing) {
  const Tensor labels = Tensor::from_vector<int32_t>({2, 0, 4, 2}, {4});
  for (double smoothing : {0.0, 0.1}) {
    const double off = smoothing / 5, on = 1 - smoothing + off;
    std::vector<float> expected(20, float(off));
    for (int n = 0; n < 4; ++n) expected[n * 5 + labels.to_vector<int32_t>()[n]] = float(on);
    EXPECT_TRUE(
        all_close(prim::one_hot(labels, 5, smoothing), Tensor::from_vector(expected, {4, 5}), 0, 0))
        << "smoothing " << smoothing;
  }
  EXPECT_THROW(prim::one_hot(Tensor::from_vector<int32_t>({5}, {1}), 5), Error);
}

}  // namespace
}  // namespace remix
