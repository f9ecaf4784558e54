// BatchNorm2d: batch statistics in training, PyTorch's running statistics (unbiased variance,
// momentum 0.1), eval mode on running statistics, the fused residual + ReLU, gradients.
#include "nn/batch_norm.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nn/init.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

struct ChannelStats {
  std::vector<double> mean, biased_var, unbiased_var;
};

// Per-channel statistics of an M x C view of x (every axis but the last is reduced).
ChannelStats stats_of(const Tensor& x) {
  const int64_t C = x.size(-1), M = x.numel() / C;
  const auto v = x.to_vector<float>();
  ChannelStats s{std::vector<double>(C), std::vector<double>(C), std::vector<double>(C)};
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0, sq = 0;
    for (int64_t m = 0; m < M; ++m) sum += v[m * C + c];
    s.mean[c] = sum / M;
    for (int64_t m = 0; m < M; ++m) sq += (v[m * C + c] - s.mean[c]) * (v[m * C + c] - s.mean[c]);
    s.biased_var[c] = sq / M;
    s.unbiased_var[c] = sq / (M - 1);
  }
  return s;
}

// y = relu?(w * (x - mean) / sqrt(var + eps) + b + z?)
Tensor naive_bn(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& var,
                const Tensor& w, const Tensor& b, const Tensor& z, bool relu, double eps = 1e-5) {
  const int64_t C = x.size(-1);
  const auto xv = x.to_vector<float>(), wv = w.to_vector<float>(), bv = b.to_vector<float>();
  const auto zv = z.defined() ? z.to_vector<float>() : std::vector<float>(xv.size(), 0.f);
  std::vector<float> y(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) % C;
    double v = wv[c] * (xv[i] - mean[c]) / std::sqrt(var[c] + eps) + bv[c] + zv[i];
    y[i] = static_cast<float>(relu ? std::max(v, 0.0) : v);
  }
  return Tensor::from_vector(y, x.shape());
}

TEST(BatchNorm2d, NormalisesWithBatchStatisticsInTraining) {
  Generator gen(1);
  BatchNorm2d bn({3});
  init::uniform(bn.weight(), 0.5, 1.5, gen);
  init::uniform(bn.bias(), -0.5, 0.5, gen);
  const Tensor x = testing::random_tensor({2, 3, 4, 3}, gen, -2, 3);
  const ChannelStats s = stats_of(x);
  EXPECT_TRUE(testing::all_close(
      bn.forward(x), naive_bn(x, s.mean, s.biased_var, bn.weight(), bn.bias(), {}, false), 1e-4,
      1e-4));
}

TEST(BatchNorm2d, UpdatesRunningStatisticsAsPyTorchDoes) {
  Generator gen(2);
  BatchNorm2d bn({4});
  std::vector<double> mean(4, 0.0), var(4, 1.0);
  for (int step = 0; step < 3; ++step) {
    const Tensor x = testing::random_tensor({3, 2, 2, 4}, gen, -1.0 + step, 2.0 + 2 * step);
    bn.forward(x);
    // running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance
    const ChannelStats s = stats_of(x);
    for (int c = 0; c < 4; ++c) {
      mean[c] = 0.9 * mean[c] + 0.1 * s.mean[c];
      var[c] = 0.9 * var[c] + 0.1 * s.unbiased_var[c];
    }
  }
  std::vector<float> mean_f(mean.begin(), mean.end()), var_f(var.begin(), var.end());
  EXPECT_TRUE(testing::all_close(bn.running_mean(), Tensor::from_vector(mean_f), 1e-5, 1e-4));
  EXPECT_TRUE(testing::all_close(bn.running_var(), Tensor::from_vector(var_f), 1e-5, 1e-4));
  EXPECT_EQ(bn.num_batches_tracked(), 3);
}

TEST(BatchNorm2d, UsesRunningStatisticsInEvalModeAndLeavesThemAlone) {
  Generator gen(3);
  BatchNorm2d bn({2});
  bn.forward(testing::random_tensor({4, 3, 3, 2}, gen, 0, 4));
  bn.eval();
  const std::vector<float> rm = bn.running_mean().to_vector<float>();
  const std::vector<float> rv = bn.running_var().to_vector<float>();
  const Tensor x = testing::random_tensor({2, 2, 2, 2}, gen);
  const Tensor y = bn.forward(x);
  EXPECT_TRUE(testing::all_close(
      y, naive_bn(x, {rm[0], rm[1]}, {rv[0], rv[1]}, bn.weight(), bn.bias(), {}, false), 1e-5,
      1e-4));
  EXPECT_EQ(bn.running_mean().to_vector<float>(), rm);
  EXPECT_EQ(bn.num_batches_tracked(), 1);
}

TEST(BatchNorm2d, FusesAResidualAddAndARelu) {
  Generator gen(4);
  BatchNorm2d bn({3});
  init::uniform(bn.bias(), -0.5, 0.5, gen);
  const Tensor x = testing::random_tensor({2, 2, 3, 3}, gen);
  const Tensor z = testing::random_tensor({2, 2, 3, 3}, gen);
  const ChannelStats s = stats_of(x);
  const Tensor y = bn.forward(x, BatchNormActivation::relu, z);
  EXPECT_TRUE(testing::all_close(
      y, naive_bn(x, s.mean, s.biased_var, bn.weight(), bn.bias(), z, true), 1e-4, 1e-4));
}

TEST(BatchNorm2d, AcceptsFlatBatchByChannelInputs) {
  Generator gen(5);
  BatchNorm2d bn({3});
  const Tensor x = testing::random_tensor({6, 3}, gen);
  const ChannelStats s = stats_of(x);
  EXPECT_TRUE(testing::all_close(
      bn.forward(x), naive_bn(x, s.mean, s.biased_var, bn.weight(), bn.bias(), {}, false), 1e-4,
      1e-4));
  EXPECT_THROW(bn.forward(Tensor::zeros({2, 2, 2, 4})), Error);
}

TEST(BatchNorm2d, PassesGradientsToItsInputWeightBiasAndResidual) {
  Generator gen(6);
  BatchNorm2d bn({3});
  const auto f = [&](const std::vector<Tensor>& in) {
    bn.weight() = in[1];
    bn.bias() = in[2];
    return bn.forward(in[0], BatchNormActivation::none, in[3]);
  };
  EXPECT_TRUE(testing::gradient_matches(
      f,
      {testing::random_tensor({2, 2, 2, 3}, gen), testing::random_tensor({3}, gen, 0.5, 1.5),
       testing::random_tensor({3}, gen), testing::random_tensor({2, 2, 2, 3}, gen)},
      {.eps = 1e-2, .atol = 2e-3, .rtol = 2e-2}));
}

}  // namespace
}  // namespace remix::nn
