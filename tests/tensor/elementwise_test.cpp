// Elementwise ops on the CPU: every BinaryOp with broadcasting (same shape, scalars, trailing
// rows, general, empty, and sizes big enough to run threaded), ops with a scalar on either side,
// every UnaryOp and the ReLU backward, each against a naive loop written here.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

// One line per op, kept as a table.
// clang-format off
// kBinaryOps and kUnaryOps (tensor/backend.h) list every op: a new op is tested here at once.

double reference_binary(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::maximum: return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
    case BinaryOp::minimum: return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
    case BinaryOp::pow: return std::pow(a, b);
    case BinaryOp::equal: return a == b ? 1 : 0;
    case BinaryOp::greater: return a > b ? 1 : 0;
  }
  return NAN;
}

double reference_unary(UnaryOp op, double x) {
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::rsqrt: return 1 / std::sqrt(x);
    case UnaryOp::abs: return std::abs(x);
    case UnaryOp::relu: return x > 0 ? x : 0;
    case UnaryOp::sigmoid: return 1 / (1 + std::exp(-x));
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::reciprocal: return 1 / x;
  }
  return NAN;
}

// clang-format on

// Flat index into `from` that broadcasting reads for flat index `i` of shape `to`.
int64_t broadcast_source(int64_t i, const Shape& from, const Shape& to) {
  int64_t index = 0, stride = 1;
  for (size_t k = 0; k < to.size(); ++k) {
    const size_t axis = to.size() - 1 - k;
    const int64_t coordinate = i % to[axis];
    i /= to[axis];
    if (k < from.size()) {
      const int64_t size = from[from.size() - 1 - k];
      if (size != 1) index += coordinate * stride;
      stride *= size;
    }
  }
  return index;
}

// Multiples of 1/4 in [-2, 2] (a) and in [0.25, 2] (b): many exact ties for equal and greater,
// no division by zero, and pow of a negative base gives NaN on both sides.
Tensor quarters(const Shape& shape, Generator& gen, bool positive) {
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (float& x : v)
    x = positive ? static_cast<float>(gen.randint(8) + 1) / 4
                 : static_cast<float>(gen.randint(17) - 8) / 4;
  return Tensor::from_vector(v, shape);
}

Tensor reference(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  const std::vector<float> va = a.to_vector<float>(), vb = b.to_vector<float>();
  std::vector<float> out(static_cast<size_t>(numel(shape)));
  for (int64_t i = 0; i < numel(shape); ++i)
    out[i] = static_cast<float>(reference_binary(op, va[broadcast_source(i, a.shape(), shape)],
                                                 vb[broadcast_source(i, b.shape(), shape)]));
  return Tensor::from_vector(out, shape);
}

TEST(Binary, EveryOpBroadcastsLikeNumPy) {
  // clang-format off
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{4, 3}, {4, 3}},          {{4, 3}, {}},           {{}, {4, 3}},
      {{4, 3}, {1}},             {{4, 3}, {3}},          {{3}, {4, 3}},
      {{2, 3, 5}, {1, 3, 5}},    {{2, 1, 3}, {4, 1}},    {{2, 3, 1, 5}, {3, 4, 1}},
      {{5, 1}, {1, 6}},          {{1}, {}},              {{}, {}},
      {{0, 3}, {3}},             {{2, 0}, {1}},          {{2, 4, 4, 3}, {2, 1, 1, 3}},
      {{3, 1, 2}, {3, 4, 1}}};
  // clang-format on
  Generator gen(11);
  for (const auto& [sa, sb] : cases) {
    const Tensor a = quarters(sa, gen, false), b = quarters(sb, gen, true);
    for (BinaryOp op : kBinaryOps) {
      const Tensor out = prim::binary(op, a, b);
      EXPECT_TRUE(testing::all_close(out, reference(op, a, b), 1e-6, 1e-6))
          << "op " << static_cast<int>(op) << ": " << to_string(sa) << " op " << to_string(sb);
      const Tensor swapped = prim::binary(op, b, a);
      EXPECT_TRUE(testing::all_close(swapped, reference(op, b, a), 1e-6, 1e-6))
          << "op " << static_cast<int>(op) << ": " << to_string(sb) << " op " << to_string(sa);
    }
  }
}

TEST(Binary, LargeTensorsSplitOverThreadsOnEveryPath) {
  // Above the 32K-element threshold: same shape, scalar, trailing row and general broadcasting.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 20000}, {2, 20000}}, {{40000}, {}}, {{300, 128}, {128}}, {{2, 1, 150}, {150, 1}}};
  Generator gen(17);
  for (const auto& [sa, sb] : cases) {
    const Tensor a = quarters(sa, gen, false), b = quarters(sb, gen, true);
    for (BinaryOp op : {BinaryOp::sub, BinaryOp::maximum, BinaryOp::greater}) {
      EXPECT_TRUE(testing::all_close(prim::binary(op, a, b), reference(op, a, b), 1e-6, 1e-6))
          << "op " << static_cast<int>(op) << ": " << to_string(sa) << " op " << to_string(sb);
      EXPECT_TRUE(testing::all_close(prim::binary(op, b, a), reference(op, b, a), 1e-6, 1e-6))
          << "op " << static_cast<int>(op) << ": " << to_string(sb) << " op " << to_string(sa);
    }
  }
}

TEST(Binary, ContinuousValuesMatchTheReference) {
  Generator gen(12);
  const Tensor a = testing::random_tensor({6, 7, 5}, gen, 0.1, 3.0);
  const Tensor b = testing::random_tensor({7, 1}, gen, -2.0, 2.0);
  for (BinaryOp op : kBinaryOps)
    EXPECT_TRUE(testing::all_close(prim::binary(op, a, b), reference(op, a, b), 1e-6, 1e-5))
        << "op " << static_cast<int>(op);
}

TEST(Binary, MaximumAndMinimumPropagateNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor a = Tensor::from_vector<float>({nan, 1.f, 2.f});
  const Tensor b = Tensor::from_vector<float>({0.f, nan, 3.f});
  for (BinaryOp op : {BinaryOp::maximum, BinaryOp::minimum}) {
    const std::vector<float> out = prim::binary(op, a, b).to_vector<float>();
    EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[1]));
    EXPECT_EQ(out[2], op == BinaryOp::maximum ? 3.f : 2.f);
  }
}

TEST(Binary, CanWriteIntoAnOperand) {
  Generator gen(13);
  Tensor a = testing::random_tensor({50, 8}, gen);
  const Tensor b = testing::random_tensor({8}, gen);
  const Tensor expected = reference(BinaryOp::add, a, b);
  cpu_backend().binary(BinaryOp::add, a, b, a);
  EXPECT_TRUE(testing::all_close(a, expected));
}

TEST(Binary, RejectsOtherDtypesAndWrongOutputShapes) {
  const Tensor i = Tensor::zeros({2}, DType::i32);
  Tensor out_i = Tensor::zeros({2}, DType::i32);
  EXPECT_THROW(cpu_backend().binary(BinaryOp::add, i, i, out_i), Error);
  const Tensor f = Tensor::zeros({2, 3});
  Tensor wrong = Tensor::zeros({3, 2});
  EXPECT_THROW(cpu_backend().binary(BinaryOp::add, f, f, wrong), Error);
  EXPECT_THROW(prim::binary(BinaryOp::mul, f, Tensor::zeros({2})), Error);
  EXPECT_THROW(prim::binary(BinaryOp::mul, f, Tensor::zeros({2, 3}, DType::f16)), Error);
}

TEST(BinaryScalar, AppliesTheScalarOnEitherSide) {
  Generator gen(14);
  for (const Shape& shape : {Shape{5, 3}, Shape{}, Shape{0, 2}, Shape{50000}}) {
    const Tensor a = quarters(shape, gen, true);
    const std::vector<float> va = a.to_vector<float>();
    for (BinaryOp op : kBinaryOps)
      for (bool scalar_first : {false, true}) {
        const double s = 0.75;
        std::vector<float> expected(va.size());
        for (size_t i = 0; i < va.size(); ++i)
          expected[i] = static_cast<float>(scalar_first ? reference_binary(op, s, va[i])
                                                        : reference_binary(op, va[i], s));
        EXPECT_TRUE(testing::all_close(prim::binary_scalar(op, a, s, scalar_first),
                                       Tensor::from_vector(expected, shape), 1e-6, 1e-6))
            << "op " << static_cast<int>(op) << " scalar_first " << scalar_first;
      }
  }
}

TEST(Unary, EveryOpMatchesTheReference) {
  Generator gen(15);
  for (const Shape& shape : {Shape{3, 4, 5}, Shape{}, Shape{0}, Shape{40000}}) {
    for (UnaryOp op : kUnaryOps) {
      const bool positive_domain =
          op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::rsqrt;
      const Tensor x = positive_domain ? testing::random_tensor(shape, gen, 0.1, 4.0)
                                       : testing::random_tensor(shape, gen, -4.0, 4.0);
      std::vector<float> expected;
      for (float v : x.to_vector<float>())
        expected.push_back(static_cast<float>(reference_unary(op, v)));
      EXPECT_TRUE(
          testing::all_close(prim::unary(op, x), Tensor::from_vector(expected, shape), 1e-6, 2e-6))
          << "op " << static_cast<int>(op) << " on " << to_string(shape);
    }
  }
}

TEST(Unary, SigmoidSaturatesWithoutNan) {
  const Tensor x = Tensor::from_vector<float>({-200.f, 200.f});
  EXPECT_EQ(prim::unary(UnaryOp::sigmoid, x).to_vector<float>(), (std::vector<float>{0.f, 1.f}));
}

TEST(Unary, RejectsOtherDtypesAndShapes) {
  Tensor out({2}, DType::i32);
  EXPECT_THROW(cpu_backend().unary(UnaryOp::neg, Tensor::zeros({2}, DType::i32), out), Error);
  Tensor wrong({3});
  EXPECT_THROW(cpu_backend().unary(UnaryOp::neg, Tensor::zeros({2}), wrong), Error);
}

TEST(ReluBackward, PassesTheGradientWhereTheOutputIsPositive) {
  Generator gen(16);
  const Tensor dy = testing::random_tensor({7, 9}, gen);
  Tensor y = prim::unary(UnaryOp::relu, testing::random_tensor({7, 9}, gen));
  y.data<float>()[0] = 0.0f;  // exactly at the kink: no gradient, as in PyTorch
  const std::vector<float> vdy = dy.to_vector<float>(), vy = y.to_vector<float>();
  std::vector<float> expected(vdy.size());
  for (size_t i = 0; i < vdy.size(); ++i) expected[i] = vy[i] > 0 ? vdy[i] : 0.0f;
  EXPECT_TRUE(
      testing::all_close(prim::relu_backward(dy, y), Tensor::from_vector(expected, {7, 9})));
  EXPECT_THROW(prim::relu_backward(dy, Tensor::zeros({9, 7})), Error);
}

}  // namespace
}  // namespace remix
