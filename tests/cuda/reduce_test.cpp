// The CUDA reductions against the CPU backend: sum, mean and max over trailing axes (the row
// kernel), leading and interleaved axes (the column kernel), everything, and a long column that
// takes the two-pass chunked path; argmax along every axis, with ties.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::kFloatTypes;
using testing::matches_cpu;
using testing::random_integers;
using testing::random_tensor;
using testing::rounded;
using testing::same_bytes;
using testing::to_gpu;

// Number of elements each output combines.
int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& axes) {
  if (axes.empty()) return numel(shape);
  int64_t count = 1;
  for (int64_t a : axes) count *= shape[normalize_axis(a, static_cast<int64_t>(shape.size()))];
  return count;
}

void expect_reductions_match(const Tensor& x, const std::vector<int64_t>& axes) {
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max}) {
    for (bool keepdim : {false, true}) {
      for (DType dtype : kFloatTypes) {
        SCOPED_TRACE(::testing::Message()
                     << "op " << static_cast<int>(op) << " of " << to_string(x.shape()) << " over "
                     << axes.size() << " axes, first " << (axes.empty() ? -1 : axes[0])
                     << ", keepdim " << keepdim << " " << dtype_name(dtype));
        const Tensor expected = prim::reduce(op, rounded(x, dtype), axes, keepdim);
        const Tensor actual = prim::reduce(op, to_gpu(x, dtype), axes, keepdim);
        // A sum of n values in [-1, 1] is typically sqrt(n) large.
        const double scale = op == ReduceOp::sum
                                 ? std::sqrt(static_cast<double>(reduced_count(x.shape(), axes)))
                                 : 1.0;
        EXPECT_TRUE(matches_cpu(actual, expected, dtype, scale));
      }
    }
  }
}

TEST(CudaReduce, TrailingAxesMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(20);
  const Tensor x = random_tensor({2, 3, 5, 13}, gen);
  expect_reductions_match(x, {3});
  expect_reductions_match(x, {2, 3});
  expect_reductions_match(x, {});                               // everything
  expect_reductions_match(random_tensor({3, 5000}, gen), {1});  // rows longer than a block
  expect_reductions_match(random_tensor({7}, gen), {0});
}

TEST(CudaReduce, LeadingAndInterleavedAxesMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(21);
  const Tensor x = random_tensor({2, 3, 5, 13}, gen);
  expect_reductions_match(x, {0});
  expect_reductions_match(x, {1, 2});  // global average pooling of NHWC
  expect_reductions_match(x, {0, 1, 2});
  expect_reductions_match(x, {0, 2});
  expect_reductions_match(x, {1, 3});
  expect_reductions_match(x, {-3});
  expect_reductions_match(random_tensor({1, 3, 1, 5}, gen), {0, 2});  // only size-1 axes
}

TEST(CudaReduce, ALongColumnTakesTheChunkedPathAndMatchesTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(22);
  // 3 outputs of 16 x 32 x 32 = 16384 elements each: the per-channel sum of an NHWC batch.
  const Tensor x = random_tensor({16, 32, 32, 3}, gen);
  expect_reductions_match(x, {0, 1, 2});
  expect_reductions_match(random_tensor({4000, 5}, gen), {0});
}

TEST(CudaReduce, ArgmaxPicksTheFirstMaximumAlongEveryAxis) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(23);
  const Tensor distinct = random_tensor({4, 7, 13}, gen);
  const Tensor ties = random_integers({4, 7, 13}, gen, 0, 3);
  for (const Tensor& x : {distinct, ties}) {
    for (int64_t axis : {0, 1, 2, -1}) {
      for (DType dtype : kFloatTypes) {
        SCOPED_TRACE(::testing::Message() << "axis " << axis << " " << dtype_name(dtype));
        EXPECT_TRUE(same_bytes(prim::argmax(to_gpu(x, dtype), axis),
                               prim::argmax(rounded(x, dtype), axis)));
      }
    }
  }
  EXPECT_TRUE(same_bytes(prim::argmax(to_gpu(distinct), 1, true), prim::argmax(distinct, 1, true)));
}

}  // namespace
}  // namespace remix
