// Exercise 1: GELU against its formula, near the exact erf form, and its gradient by autograd.
#include "exercises/gelu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "autograd/gradcheck.h"
#include "tests/support/test_support.h"

namespace remix::exercises {
namespace {

double gelu_formula(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
}

TEST(GeluExercise, MatchesTheTanhFormulaElementByElement) {
  Generator gen(7);
  const Tensor x = Tensor::uniform({5, 7}, gen, -6.0, 6.0);
  const std::vector<float> in = x.to_vector<float>(), out = gelu(x).to_vector<float>();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_NEAR(out[i], gelu_formula(in[i]), 1e-5) << in[i];
}

TEST(GeluExercise, StaysWithinAThousandthOfTheExactErfForm) {
  const Tensor x = Tensor::from_vector<float>({-4, -2, -1, -0.5f, 0, 0.5f, 1, 2, 4}, {9});
  const std::vector<float> in = x.to_vector<float>(), out = gelu(x).to_vector<float>();
  for (size_t i = 0; i < in.size(); ++i)
    EXPECT_NEAR(out[i], 0.5 * in[i] * (1 + std::erf(in[i] / std::sqrt(2.0))), 1e-3) << in[i];
}

TEST(GeluExercise, HasTheGradientOfItsFormula) {
  Generator gen(8);
  const Tensor x = Tensor::uniform({3, 4}, gen, -3.0, 3.0);
  const GradcheckResult result = gradcheck([](const std::vector<Tensor>& in) { return gelu(in[0]); },
                                           {x});
  EXPECT_TRUE(result.ok) << result.message;
}

}  // namespace
}  // namespace remix::exercises
