// Gradients of the elementwise operations: every binary op on broadcast shapes (size-1 axes,
// added leading axes, one-element [1] tensors), the scalar forms, and every unary op on inputs
// away from its singularities and kinks.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

using Binary = Tensor (*)(const Tensor&, const Tensor&);

// Shape pairs that broadcast in every way NumPy allows.
const std::vector<std::pair<Shape, Shape>> kBroadcastCases = {
    {{2, 3, 4}, {2, 3, 4}},  // same shape
    {{2, 3, 4}, {4}},        // a bias over the last axis
    {{2, 1, 4}, {3, 1}},     // size-1 axes on both sides
    {{2, 3, 4}, {1}},        // a one-element tensor
    {{1}, {2, 3}},           // the one-element tensor first
    {{3, 1}, {1, 4}},        // an outer product
};

// Uniform values of magnitude in [low, high) with random signs: away from 0.
Tensor away_from_zero(const Shape& shape, Generator& gen, double low = 0.2, double high = 1.0) {
  std::vector<float> v = random_tensor(shape, gen, low, high).to_vector<float>();
  for (float& e : v) e = gen.uniform() < 0.5 ? -e : e;
  return Tensor::from_vector(v, shape);
}

void expect_binary_gradients(Binary op, bool positive_b) {
  Generator gen(1);
  for (const auto& [a_shape, b_shape] : kBroadcastCases) {
    const Tensor a = random_tensor(a_shape, gen);
    const Tensor b = positive_b ? random_tensor(b_shape, gen, 0.5, 1.5) : random_tensor(b_shape, gen);
    EXPECT_TRUE(gradient_matches([op](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
                                 {a, b}, {.eps = 1e-3}))
        << to_string(a_shape) << " with " << to_string(b_shape);
  }
}

TEST(AddGradient, MatchesNumericalOnBroadcastShapes) {
  expect_binary_gradients([](const Tensor& a, const Tensor& b) { return add(a, b); }, false);
}

TEST(SubGradient, MatchesNumericalOnBroadcastShapes) {
  expect_binary_gradients([](const Tensor& a, const Tensor& b) { return sub(a, b); }, false);
}

TEST(MulGradient, MatchesNumericalOnBroadcastShapes) {
  expect_binary_gradients([](const Tensor& a, const Tensor& b) { return mul(a, b); }, false);
}

TEST(DivGradient, MatchesNumericalOnBroadcastShapesWithDivisorsAwayFromZero) {
  expect_binary_gradients([](const Tensor& a, const Tensor& b) { return div(a, b); }, true);
}

TEST(MulGradient, ReachesOnlyTheInputThatRequiresIt) {
  Generator gen(2);
  Tensor a = random_tensor({3}, gen), b = random_tensor({3}, gen);
  set_requires_grad(a);
  backward(sum(mul(a, b)));
  EXPECT_TRUE(all_close(grad(a), b));
  EXPECT_FALSE(grad(b).defined());
}

// ------------------------------------------------------------------------ scalar operations

TEST(ScalarOpGradients, MatchNumerical) {
  Generator gen(3);
  const Tensor x = random_tensor({2, 5}, gen);
  const Tensor positive = random_tensor({2, 5}, gen, 0.5, 1.5);
  auto check = [](auto f, const Tensor& input) {
    return gradient_matches([f](const std::vector<Tensor>& in) { return f(in[0]); }, {input},
                            {.eps = 1e-3});
  };
  EXPECT_TRUE(check([](const Tensor& a) { return add(a, 2.5); }, x));
  EXPECT_TRUE(check([](const Tensor& a) { return mul(a, -1.5); }, x));
  EXPECT_TRUE(check([](const Tensor& a) { return rsub(a, 2.0); }, x));
  EXPECT_TRUE(check([](const Tensor& a) { return rdiv(a, 3.0); }, positive));
  for (double exponent : {2.0, 3.0, 0.5, -1.5})
    EXPECT_TRUE(check([exponent](const Tensor& a) { return pow(a, exponent); }, positive))
        << "exponent " << exponent;
}

TEST(ScalarOps, ComputeTheirFormulas) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 4});
  EXPECT_TRUE(all_close(rsub(x, 1.0), Tensor::from_vector<float>({0, -1, -3})));
  EXPECT_TRUE(all_close(rdiv(x, 2.0), Tensor::from_vector<float>({2, 1, 0.5})));
  EXPECT_TRUE(all_close(pow(x, 1.5), Tensor::from_vector<float>({1, std::sqrt(8.f), 8})));
}

TEST(PowGradient, IsZeroForExponentZeroEvenAtZero) {
  Tensor x = Tensor::from_vector<float>({0, 2});
  set_requires_grad(x);
  backward(sum(pow(x, 0.0)));
  EXPECT_TRUE(all_close(grad(x), Tensor::zeros({2}), 0, 0));
}

TEST(Operators, MeanTheOpsTheyName) {
  const Tensor a = Tensor::from_vector<float>({1, 2, 4});
  const Tensor b = Tensor::from_vector<float>({2, 2, 2});
  EXPECT_TRUE(all_close(a + b, Tensor::from_vector<float>({3, 4, 6})));
  EXPECT_TRUE(all_close(a - b, Tensor::from_vector<float>({-1, 0, 2})));
  EXPECT_TRUE(all_close(a * b, Tensor::from_vector<float>({2, 4, 8})));
  EXPECT_TRUE(all_close(a / b, Tensor::from_vector<float>({0.5, 1, 2})));
  EXPECT_TRUE(all_close(-a, Tensor::from_vector<float>({-1, -2, -4})));
  EXPECT_TRUE(all_close(a + 1.0, Tensor::from_vector<float>({2, 3, 5})));
  EXPECT_TRUE(all_close(a - 1.0, Tensor::from_vector<float>({0, 1, 3})));
  EXPECT_TRUE(all_close(a * 3.0, Tensor::from_vector<float>({3, 6, 12})));
  EXPECT_TRUE(all_close(a / 4.0, Tensor::from_vector<float>({0.25, 0.5, 1})));
  EXPECT_TRUE(all_close(1.0 + a, Tensor::from_vector<float>({2, 3, 5})));
  EXPECT_TRUE(all_close(1.0 - a, Tensor::from_vector<float>({0, -1, -3})));
  EXPECT_TRUE(all_close(3.0 * a, Tensor::from_vector<float>({3, 6, 12})));
  EXPECT_TRUE(all_close(4.0 / a, Tensor::from_vector<float>({4, 2, 1})));
}

TEST(Operators, ComposeIntoDifferentiableExpressions) {
  Generator gen(4);
  const Tensor a = random_tensor({3, 4}, gen, 0.5, 1.5);
  const Tensor b = random_tensor({4}, gen, 0.5, 1.5);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) {
        const Tensor& x = in[0];
        const Tensor& y = in[1];
        return (2.0 - x) * y / (x + 1.0) - 3.0 / y + x / 2.0 - (-x) * 0.5;
      },
      {a, b}, {.eps = 1e-3}));
}

// -------------------------------------------------------------------------- unary operations

struct UnaryCase {
  const char* name;
  Tensor (*op)(const Tensor&);
  double low, high;     // input magnitudes
  bool random_sign;     // inputs of both signs (still |x| >= low)
};

TEST(UnaryGradients, MatchNumericalAwayFromSingularitiesAndKinks) {
  const std::vector<UnaryCase> cases = {
      {"neg", [](const Tensor& x) { return neg(x); }, 0.0, 1.0, true},
      {"exp", [](const Tensor& x) { return exp(x); }, 0.0, 1.0, true},
      {"log", [](const Tensor& x) { return log(x); }, 0.5, 2.0, false},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5, 2.0, false},
      {"relu", [](const Tensor& x) { return relu(x); }, 0.1, 1.0, true},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, 0.0, 2.0, true},
      {"tanh", [](const Tensor& x) { return tanh(x); }, 0.0, 2.0, true},
      {"square", [](const Tensor& x) { return square(x); }, 0.0, 1.0, true},
  };
  Generator gen(5);
  for (const UnaryCase& c : cases) {
    const Tensor x = c.random_sign ? away_from_zero({3, 4}, gen, c.low, c.high)
                                   : random_tensor({3, 4}, gen, c.low, c.high);
    auto op = c.op;
    EXPECT_TRUE(gradient_matches([op](const std::vector<Tensor>& in) { return op(in[0]); }, {x},
                                 {.eps = 1e-3}))
        << c.name;
  }
}

TEST(ReluGradient, IsZeroWhereTheInputIsNegative) {
  Tensor x = Tensor::from_vector<float>({-2, -0.5, 0.5, 2});
  set_requires_grad(x);
  backward(sum(relu(x)));
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({0, 0, 1, 1})));
}

TEST(Comparisons, GiveZeroOrOneAndRecordNothing) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3});
  set_requires_grad(a);
  const Tensor b = Tensor::from_vector<float>({2, 2, 2});
  const Tensor g = greater(a, b), e = equal(a, b);
  EXPECT_TRUE(all_close(g, Tensor::from_vector<float>({0, 0, 1})));
  EXPECT_TRUE(all_close(e, Tensor::from_vector<float>({0, 1, 0})));
  EXPECT_FALSE(requires_grad(g));
  EXPECT_FALSE(requires_grad(e));
}

}  // namespace
}  // namespace remix
