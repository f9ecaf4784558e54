// Linear layer: y = x W^T + b against a naive loop, gradients, PyTorch's default initialisation.
#include "nn/linear.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

TEST(Linear, MatchesANaiveMatrixProductPlusBias) {
  Generator gen(1);
  Linear fc({5, 3}, gen);
  const Tensor x = testing::random_tensor({4, 5}, gen);
  const auto xv = x.to_vector<float>(), wv = fc.weight().to_vector<float>();
  const auto bv = fc.bias().to_vector<float>();
  std::vector<float> y(4 * 3);
  for (int n = 0; n < 4; ++n)
    for (int k = 0; k < 3; ++k) {
      double acc = bv[k];
      for (int c = 0; c < 5; ++c) acc += xv[n * 5 + c] * wv[k * 5 + c];
      y[n * 3 + k] = static_cast<float>(acc);
    }
  EXPECT_EQ(fc.weight().shape(), (Shape{3, 5}));
  EXPECT_TRUE(testing::all_close(fc.forward(x), Tensor::from_vector(y, {4, 3}), 1e-5, 1e-5));
}

TEST(Linear, PassesGradientsToItsInputWeightAndBias) {
  Generator gen(2);
  Linear fc({4, 3}, gen);
  const auto f = [&](const std::vector<Tensor>& in) {
    fc.weight() = in[1];
    fc.bias() = in[2];
    return fc.forward(in[0]);
  };
  EXPECT_TRUE(testing::gradient_matches(
      f, {testing::random_tensor({2, 4}, gen), testing::random_tensor({3, 4}, gen),
          testing::random_tensor({3}, gen)}));
}

TEST(Linear, CanGoWithoutBiasAndCountsFlops) {
  Generator gen(3);
  Linear fc({8, 2, false}, gen);
  EXPECT_EQ(fc.named_parameters().size(), 1u);
  EXPECT_EQ(fc.forward_flops({7, 2}), 2 * 8 * 2);
  const Tensor x = testing::random_tensor({1, 8}, gen);
  const auto xv = x.to_vector<float>(), wv = fc.weight().to_vector<float>();
  double y0 = 0;
  for (int c = 0; c < 8; ++c) y0 += xv[c] * wv[c];
  EXPECT_NEAR(fc.forward(x).to_vector<float>()[0], y0, 1e-5);
  EXPECT_THROW(fc.forward(Tensor::zeros({1, 7})), Error);
}

}  // namespace
}  // namespace remix::nn
