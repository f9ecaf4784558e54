// ReLU and Dropout layers.
#include "nn/activation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nn/dropout.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

TEST(ReLU, ZeroesNegativeValuesOnly) {
  ReLU relu;
  const Tensor x = Tensor::from_vector<float>({-2, -0.5, 0, 0.5, 3}, {1, 5});
  EXPECT_EQ(relu.forward(x).to_vector<float>(), (std::vector<float>{0, 0, 0, 0.5, 3}));
}

TEST(Dropout, IsTheIdentityInEvalMode) {
  Generator gen(1), data(2);
  Dropout dropout(0.5, gen);
  dropout.eval();
  const Tensor x = testing::random_tensor({4, 8}, data);
  EXPECT_EQ(dropout.forward(x).to_vector<float>(), x.to_vector<float>());
}

TEST(Dropout, DropsAboutPAndScalesTheRestInTraining) {
  Generator gen(3);
  Dropout dropout(0.25, gen);
  const Tensor x = Tensor::ones({100, 100});
  const auto y = dropout.forward(x).to_vector<float>();
  int64_t zeros = 0;
  for (float v : y) {
    if (v == 0.f)
      ++zeros;
    else
      EXPECT_NEAR(v, 1.0 / 0.75, 1e-6);
  }
  // 10000 Bernoulli(0.25) draws: standard deviation ~43.
  EXPECT_NEAR(static_cast<double>(zeros), 2500.0, 200.0);
}

TEST(Dropout, DrawsItsMaskFromTheGivenGenerator) {
  Generator a(7), b(7);
  Dropout first(0.5, a), second(0.5, b);
  const Tensor x = Tensor::ones({64});
  EXPECT_EQ(first.forward(x).to_vector<float>(), second.forward(x).to_vector<float>());
  EXPECT_THROW(Dropout(1.0, a), Error);
}

}  // namespace
}  // namespace remix::nn
