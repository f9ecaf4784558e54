// The CUDA elementwise primitives against the CPU backend: every binary op on equal and
// broadcast shapes, every op with a scalar on either side, every unary function, and the ReLU
// backward, in f32, f16 and bf16.
#include <gtest/gtest.h>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::kFloatTypes;
using testing::matches_cpu;
using testing::random_integers;
using testing::random_tensor;
using testing::rounded;
using testing::to_gpu;

// Inputs for an op: positive where the op needs it (pow's base, div's denominator), small
// integers for the comparisons so that equal values occur.
Tensor operand(BinaryOp op, bool first, const Shape& shape, Generator& gen) {
  switch (op) {
    case BinaryOp::equal:
    case BinaryOp::greater:
      return random_integers(shape, gen, -2, 2);
    case BinaryOp::pow:
      return first ? random_tensor(shape, gen, 0.25, 2.0) : random_tensor(shape, gen, -2.0, 2.0);
    case BinaryOp::div:
      return first ? random_tensor(shape, gen, -2.0, 2.0) : random_tensor(shape, gen, 0.5, 2.0);
    default:
      return random_tensor(shape, gen, -2.0, 2.0);
  }
}

// kBinaryOps and kUnaryOps (tensor/backend.h) list every op.

TEST(CudaElementwise, BinaryOpsMatchTheCpuOnEqualAndBroadcastShapes) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(10);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 5, 13}, {3, 5, 13}}, {{2, 3, 5}, {5}},
      {{4, 1, 3}, {1, 5, 1}},   {{1}, {2, 7}},
      {{2, 9, 1}, {2, 1, 13}},  {{1, 3, 1, 5}, {2, 1, 4, 1}}};
  for (BinaryOp op : kBinaryOps) {
    for (const auto& [sa, sb] : shapes) {
      const Tensor a = operand(op, true, sa, gen), b = operand(op, false, sb, gen);
      for (DType dtype : kFloatTypes) {
        SCOPED_TRACE(::testing::Message() << "op " << static_cast<int>(op) << " " << to_string(sa)
                                          << " with " << to_string(sb) << " " << dtype_name(dtype));
        const Tensor expected = prim::binary(op, rounded(a, dtype), rounded(b, dtype));
        EXPECT_TRUE(matches_cpu(prim::binary(op, to_gpu(a, dtype), to_gpu(b, dtype)), expected,
                                dtype, 4.0));
      }
    }
  }
}

TEST(CudaElementwise, ScalarOpsMatchTheCpuWithTheScalarOnEitherSide) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(11);
  for (BinaryOp op : kBinaryOps) {
    for (bool scalar_first : {false, true}) {
      // The tensor takes the role of the operand on its side.
      const Tensor a = operand(op, !scalar_first, {3, 5, 13}, gen);
      const double scalar = op == BinaryOp::equal || op == BinaryOp::greater ? 1.0 : 1.5;
      for (DType dtype : kFloatTypes) {
        SCOPED_TRACE(::testing::Message() << "op " << static_cast<int>(op) << " scalar first "
                                          << scalar_first << " " << dtype_name(dtype));
        const Tensor expected = prim::binary_scalar(op, rounded(a, dtype), scalar, scalar_first);
        EXPECT_TRUE(matches_cpu(prim::binary_scalar(op, to_gpu(a, dtype), scalar, scalar_first),
                                expected, dtype, 4.0));
      }
    }
  }
}

TEST(CudaElementwise, UnaryOpsMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(12);
  for (UnaryOp op : kUnaryOps) {
    const bool positive_only = op == UnaryOp::log || op == UnaryOp::sqrt || op == UnaryOp::rsqrt ||
                               op == UnaryOp::reciprocal;
    const Tensor x = positive_only ? random_tensor({2, 7, 13}, gen, 0.1, 3.0)
                                   : random_tensor({2, 7, 13}, gen, -3.0, 3.0);
    for (DType dtype : kFloatTypes) {
      SCOPED_TRACE(::testing::Message()
                   << "op " << static_cast<int>(op) << " " << dtype_name(dtype));
      EXPECT_TRUE(matches_cpu(prim::unary(op, to_gpu(x, dtype)), prim::unary(op, rounded(x, dtype)),
                              dtype, 1.0));
    }
  }
}

TEST(CudaElementwise, ReluBackwardPassesTheGradientWhereTheOutputIsPositive) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(13);
  // Half of y is exactly zero, as after a ReLU.
  const Tensor y = prim::unary(UnaryOp::relu, random_tensor({3, 5, 13}, gen));
  const Tensor dy = random_tensor({3, 5, 13}, gen);
  for (DType dtype : kFloatTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    EXPECT_TRUE(matches_cpu(prim::relu_backward(to_gpu(dy, dtype), to_gpu(y, dtype)),
                            prim::relu_backward(rounded(dy, dtype), rounded(y, dtype)), dtype));
  }
}

}  // namespace
}  // namespace remix
