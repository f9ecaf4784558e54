// Initialisers: Kaiming normal fan-out, PyTorch's default Linear, BatchNorm 1/0, reproducibility.
#include "nn/init.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/linear.h"

namespace remix::nn {
namespace {

struct Moments {
  double mean = 0, stddev = 0;
};

Moments moments_of(const Tensor& t) {
  const auto v = t.to_vector<float>();
  Moments m;
  for (float x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (float x : v) m.stddev += (x - m.mean) * (x - m.mean);
  m.stddev = std::sqrt(m.stddev / static_cast<double>(v.size()));
  return m;
}

TEST(Init, KaimingNormalFanOutHasStdSqrtTwoOverKRS) {
  Generator gen(1);
  Conv2d conv({32, 64, 3, 1, 1}, gen);  // 73728 draws; fan_out = 64 * 3 * 3
  const Moments m = moments_of(conv.weight());
  const double expected = std::sqrt(2.0 / (64 * 3 * 3));
  EXPECT_NEAR(m.stddev, expected, 0.01 * expected);
  EXPECT_NEAR(m.mean, 0.0, 0.01 * expected);
}

TEST(Init, LinearDefaultIsUniformWithinOneOverSqrtIn) {
  Generator gen(2);
  Linear fc({256, 100}, gen);
  const double bound = 1.0 / 16.0;
  for (const Tensor& t : {fc.weight(), fc.bias()})
    for (float v : t.to_vector<float>()) ASSERT_TRUE(v >= -bound && v < bound);
  // U(-b, b) has standard deviation b / sqrt(3).
  EXPECT_NEAR(moments_of(fc.weight()).stddev, bound / std::sqrt(3.0), 0.02 * bound);
}

TEST(Init, BatchNormStartsAsTheIdentityMap) {
  BatchNorm2d bn({5});
  EXPECT_EQ(bn.weight().to_vector<float>(), std::vector<float>(5, 1.f));
  EXPECT_EQ(bn.bias().to_vector<float>(), std::vector<float>(5, 0.f));
  EXPECT_EQ(bn.running_mean().to_vector<float>(), std::vector<float>(5, 0.f));
  EXPECT_EQ(bn.running_var().to_vector<float>(), std::vector<float>(5, 1.f));
}

TEST(Init, TheSameSeedGivesTheSameWeights) {
  Generator a(9), b(9);
  Conv2d first({3, 4, 3}, a), second({3, 4, 3}, b);
  EXPECT_EQ(first.weight().to_vector<float>(), second.weight().to_vector<float>());
  Tensor t = Tensor::zeros({3});
  init::constant(t, 2.5);
  EXPECT_EQ(t.to_vector<float>(), std::vector<float>(3, 2.5f));
  Tensor not_conv = Tensor::zeros({3, 3});
  EXPECT_THROW(init::kaiming_normal_fan_out(not_conv, a), Error);
}

}  // namespace
}  // namespace remix::nn
