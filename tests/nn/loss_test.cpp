// Losses against naive log-softmax formulas, and their input checks.
#include "nn/loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

std::vector<double> log_softmax_row(const std::vector<float>& z, int64_t n, int64_t K) {
  double m = z[n * K];
  for (int64_t k = 1; k < K; ++k) m = std::max(m, static_cast<double>(z[n * K + k]));
  double s = 0;
  for (int64_t k = 0; k < K; ++k) s += std::exp(z[n * K + k] - m);
  std::vector<double> out(K);
  for (int64_t k = 0; k < K; ++k) out[k] = z[n * K + k] - m - std::log(s);
  return out;
}

// mean_n -sum_k t[n,k] log_softmax(z)[n,k]
double naive_soft_ce(const Tensor& logits, const std::vector<float>& t) {
  const int64_t N = logits.size(0), K = logits.size(1);
  const auto z = logits.to_vector<float>();
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    const auto ls = log_softmax_row(z, n, K);
    for (int64_t k = 0; k < K; ++k) total -= t[n * K + k] * ls[k];
  }
  return total / N;
}

TEST(CrossEntropy, WithHardLabelsIsTheMeanNegativeLogLikelihood) {
  Generator gen(1);
  const Tensor logits = testing::random_tensor({3, 4}, gen, -2, 2);
  const Tensor labels = Tensor::from_vector<int32_t>({2, 0, 3});
  std::vector<float> t(12, 0.f);
  t[2] = t[4] = t[11] = 1.f;
  EXPECT_NEAR(cross_entropy(logits, labels).item(), naive_soft_ce(logits, t), 1e-5);
}

TEST(CrossEntropy, WithLabelSmoothingSpreadsSOverAllClasses) {
  Generator gen(2);
  const Tensor logits = testing::random_tensor({2, 5}, gen, -2, 2);
  const Tensor labels = Tensor::from_vector<int32_t>({4, 1});
  // t = (1 - s) one_hot + s / K with s = 0.1, K = 5
  std::vector<float> t(10, 0.02f);
  t[4] += 0.9f;
  t[6] += 0.9f;
  EXPECT_NEAR(cross_entropy(logits, labels, 0.1).item(), naive_soft_ce(logits, t), 1e-5);
}

TEST(SoftCrossEntropy, MatchesTheFormulaForMixedTargets) {
  Generator gen(3);
  const Tensor logits = testing::random_tensor({2, 3}, gen, -2, 2);
  const std::vector<float> t = {0.7f, 0.3f, 0.f, 0.2f, 0.2f, 0.6f};
  EXPECT_NEAR(soft_cross_entropy(logits, Tensor::from_vector(t, {2, 3})).item(),
              naive_soft_ce(logits, t), 1e-5);
}

TEST(KlDivergence, IsSoftCrossEntropyMinusTheTargetEntropy) {
  Generator gen(4);
  const Tensor logits = testing::random_tensor({2, 3}, gen, -2, 2);
  const std::vector<float> t = {0.5f, 0.5f, 0.f, 0.1f, 0.3f, 0.6f};
  double entropy = 0;  // mean_n -sum_k t log t, with 0 log 0 = 0
  for (float v : t)
    if (v > 0) entropy -= v * std::log(v) / 2;
  EXPECT_NEAR(kl_divergence(logits, Tensor::from_vector(t, {2, 3})).item(),
              naive_soft_ce(logits, t) - entropy, 1e-5);
}

TEST(CrossEntropy, PassesGradientsToTheLogits) {
  Generator gen(5);
  const Tensor labels = Tensor::from_vector<int32_t>({1, 0});
  EXPECT_TRUE(testing::gradient_matches(
      [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], labels, 0.1); },
      {testing::random_tensor({2, 3}, gen)}));
}

TEST(Losses, RejectMisshapenInputs) {
  const Tensor logits = Tensor::zeros({2, 3});
  EXPECT_THROW(cross_entropy(logits, Tensor::zeros({2})), Error);  // f32 labels
  EXPECT_THROW(cross_entropy(logits, Tensor::zeros({3}, DType::i32)), Error);
  EXPECT_THROW(cross_entropy(logits, Tensor::zeros({2}, DType::i32), 1.5), Error);
  EXPECT_THROW(soft_cross_entropy(logits, Tensor::zeros({2, 4})), Error);
  EXPECT_THROW(kl_divergence(Tensor::zeros({6}), Tensor::zeros({6})), Error);
}

}  // namespace
}  // namespace remix::nn
