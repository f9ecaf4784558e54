// Gradients and values of log_softmax, softmax, the cross entropy (soft targets, hard labels,
// label smoothing) and the KL divergence. The composite ones are also checked against values
// computed here by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

// log_softmax of each row of an N x K row-major matrix, in double.
std::vector<double> reference_log_softmax(const std::vector<float>& z, int64_t k) {
  std::vector<double> out(z.size());
  for (size_t row = 0; row < z.size(); row += k) {
    double total = 0;
    for (int64_t j = 0; j < k; ++j) total += std::exp(static_cast<double>(z[row + j]));
    for (int64_t j = 0; j < k; ++j) out[row + j] = z[row + j] - std::log(total);
  }
  return out;
}

// Rows of soft targets that sum to 1.
Tensor random_targets(int64_t n, int64_t k, Generator& gen) {
  std::vector<float> t = random_tensor({n, k}, gen, 0.1, 1.0).to_vector<float>();
  for (int64_t row = 0; row < n; ++row) {
    float total = 0;
    for (int64_t j = 0; j < k; ++j) total += t[row * k + j];
    for (int64_t j = 0; j < k; ++j) t[row * k + j] /= total;
  }
  return Tensor::from_vector(t, {n, k});
}

TEST(LogSoftmaxGradient, MatchesNumerical) {
  Generator gen(1);
  EXPECT_TRUE(gradient_matches([](const std::vector<Tensor>& in) { return log_softmax(in[0]); },
                               {random_tensor({3, 5}, gen, -2, 2)}, {.eps = 1e-3}));
}

TEST(Softmax, IsTheExponentialOfLogSoftmax) {
  const Tensor z = Tensor::from_vector<float>({1, 2, 3, 0, 0, 0}, {2, 3});
  std::vector<float> expected;
  for (double v : reference_log_softmax(z.to_vector<float>(), 3))
    expected.push_back(static_cast<float>(std::exp(v)));
  EXPECT_TRUE(all_close(softmax(z), Tensor::from_vector(expected, {2, 3}), 1e-6, 1e-5));
}

TEST(SoftmaxGradient, MatchesNumerical) {
  Generator gen(2);
  EXPECT_TRUE(gradient_matches([](const std::vector<Tensor>& in) { return softmax(in[0]); },
                               {random_tensor({3, 5}, gen, -2, 2)}, {.eps = 1e-3}));
}

TEST(CrossEntropy, AveragesTheSoftTargetLossOverRows) {
  const Tensor z = Tensor::from_vector<float>({1, 2, 3, 0.5, -1, 0}, {2, 3});
  const Tensor t = Tensor::from_vector<float>({0, 0, 1, 0.25, 0.25, 0.5}, {2, 3});
  const std::vector<double> ls = reference_log_softmax(z.to_vector<float>(), 3);
  const std::vector<float> tv = t.to_vector<float>();
  double loss = 0;
  for (size_t i = 0; i < ls.size(); ++i) loss -= tv[i] * ls[i];
  EXPECT_NEAR(cross_entropy(z, t).item(), loss / 2, 1e-6);
}

TEST(CrossEntropyGradient, MatchesNumericalForTheLogits) {
  Generator gen(3);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1]); },
      {random_tensor({4, 5}, gen, -2, 2), random_targets(4, 5, gen)},
      {.eps = 1e-3, .check_input = {true, false}}));
}

TEST(CrossEntropyGradient, LeavesTheTargetsWithoutAGradient) {
  Generator gen(4);
  Tensor z = random_tensor({2, 3}, gen), t = random_targets(2, 3, gen);
  set_requires_grad(z);
  set_requires_grad(t);
  backward(cross_entropy(z, t));
  EXPECT_TRUE(grad(z).defined());
  EXPECT_FALSE(grad(t).defined());
}

TEST(CrossEntropyGradient, ReachesLowPrecisionLogitsInTheirDtype) {
  Tensor z = Tensor::from_vector<float>({1, 2, 0.5, -1}, {2, 2}).to(DType::bf16);
  set_requires_grad(z);
  const Tensor t = Tensor::from_vector<float>({1, 0, 0, 1}, {2, 2});
  backward(cross_entropy(z, t));
  ASSERT_EQ(grad(z).dtype(), DType::bf16);
  // d/dz of the mean loss: (softmax(z) - t) / N.
  const float p0 = 1 / (1 + std::exp(1.0f)), p1 = 1 / (1 + std::exp(-1.5f));
  EXPECT_TRUE(all_close(grad(z),
                        Tensor::from_vector<float>({(p0 - 1) / 2, (1 - p0) / 2, p1 / 2, -p1 / 2},
                                                   {2, 2}),
                        1e-2, 1e-2));
}

TEST(CrossEntropy, WithHardLabelsIsMinusTheMeanLogProbabilityOfTheLabel) {
  const Tensor z = Tensor::from_vector<float>({1, 2, 3, 0.5, -1, 0}, {2, 3});
  const Tensor labels = Tensor::from_vector<int32_t>({2, 0});
  const std::vector<double> ls = reference_log_softmax(z.to_vector<float>(), 3);
  EXPECT_NEAR(cross_entropy(z, labels, 0.0).item(), -(ls[2] + ls[3]) / 2, 1e-6);
}

TEST(CrossEntropy, WithLabelSmoothingMixesInTheUniformDistribution) {
  const Tensor z = Tensor::from_vector<float>({1, 2, 3, 0.5, -1, 0}, {2, 3});
  const Tensor labels = Tensor::from_vector<int32_t>({2, 0});
  const std::vector<double> ls = reference_log_softmax(z.to_vector<float>(), 3);
  // Targets: 1 - s + s/K on the label, s/K elsewhere.
  const double s = 0.3, on = 1 - s + s / 3, off = s / 3;
  double loss = 0;
  for (int j = 0; j < 3; ++j) loss -= (j == 2 ? on : off) * ls[j] + (j == 0 ? on : off) * ls[3 + j];
  EXPECT_NEAR(cross_entropy(z, labels, s).item(), loss / 2, 1e-6);
}

TEST(CrossEntropyGradient, MatchesNumericalWithHardAndSmoothedLabels) {
  Generator gen(5);
  const Tensor z = random_tensor({4, 6}, gen, -2, 2);
  const Tensor labels = Tensor::from_vector<int32_t>({5, 0, 3, 3});
  for (double s : {0.0, 0.1}) {
    EXPECT_TRUE(gradient_matches(
        [s](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1], s); },
        {z, labels}, {.eps = 1e-3}))
        << "smoothing " << s;
  }
}

TEST(KlDivergence, IsTheBatchMeanOfTargetTimesLogRatioWithZeroLogZeroAsZero) {
  const Tensor z = Tensor::from_vector<float>({1, 2, 3, 0.5, -1, 0}, {2, 3});
  const Tensor t = Tensor::from_vector<float>({0, 0.4, 0.6, 0.2, 0.3, 0.5}, {2, 3});
  const std::vector<double> ls = reference_log_softmax(z.to_vector<float>(), 3);
  const std::vector<float> tv = t.to_vector<float>();
  double kl = 0;
  for (size_t i = 0; i < ls.size(); ++i)
    if (tv[i] > 0) kl += tv[i] * (std::log(static_cast<double>(tv[i])) - ls[i]);
  EXPECT_NEAR(kl_divergence(z, t).item(), kl / 2, 1e-6);
  EXPECT_NEAR(kl_divergence(z, softmax(z)).item(), 0.0, 1e-6);  // KL(p || p) = 0
}

TEST(KlDivergenceGradient, MatchesNumericalForLogitsAndTargets) {
  Generator gen(6);
  const Tensor z = random_tensor({3, 4}, gen, -2, 2);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) { return kl_divergence(in[0], in[1]); },
      {z, random_targets(3, 4, gen)}, {.eps = 1e-3}));
  // Targets with zeros (a one-hot row): the logits' gradient is still exact.
  const Tensor with_zeros = Tensor::from_vector<float>({0, 1, 0, 0, 0.5, 0.5, 0, 0, 0.1, 0.2, 0.3, 0.4},
                                                       {3, 4});
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) { return kl_divergence(in[0], in[1]); }, {z, with_zeros},
      {.eps = 1e-3, .check_input = {true, false}}));
}

}  // namespace
}  // namespace remix
