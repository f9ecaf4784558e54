// Reductions on the CPU: sum, mean and max over every set of axes with and without keepdim,
// size-1, scalar and empty cases, accuracy of long sums, and argmax, against naive loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

// Visits every element of x once, adding it to the output whose coordinates are x's with the
// reduced ones set to 0 (in the keepdim shape, which has the same element order).
Tensor naive_reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  const std::vector<int> reduced = normalize_axes(axes, x.dim());
  const Shape out_shape = reduced_shape(x.shape(), reduced, true);
  const std::vector<int64_t> x_strides = contiguous_strides(x.shape());
  const std::vector<int64_t> out_strides = contiguous_strides(out_shape);
  const double start = op == ReduceOp::max ? -INFINITY : 0.0;
  std::vector<double> acc(static_cast<size_t>(numel(out_shape)), start);
  std::vector<int64_t> count(acc.size(), 0);
  const std::vector<float> v = x.to_vector<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t o = 0;
    for (int64_t axis = 0; axis < x.dim(); ++axis) {
      const int64_t coordinate = i / x_strides[axis] % x.shape()[axis];
      if (std::find(reduced.begin(), reduced.end(), axis) == reduced.end())
        o += coordinate * out_strides[axis];
    }
    acc[o] = op == ReduceOp::max ? std::max(acc[o], static_cast<double>(v[i])) : acc[o] + v[i];
    ++count[o];
  }
  std::vector<float> out(acc.size());
  for (size_t o = 0; o < acc.size(); ++o)
    out[o] = static_cast<float>(op == ReduceOp::mean ? acc[o] / count[o] : acc[o]);
  return Tensor::from_vector(out, reduced_shape(x.shape(), reduced, keepdim));
}

// Every non-empty subset of the axes of an n-d tensor.
std::vector<std::vector<int64_t>> axis_subsets(int64_t n) {
  std::vector<std::vector<int64_t>> subsets;
  for (int mask = 1; mask < (1 << n); ++mask) {
    std::vector<int64_t> axes;
    for (int64_t a = 0; a < n; ++a)
      if (mask & (1 << a)) axes.push_back(a);
    subsets.push_back(axes);
  }
  return subsets;
}

TEST(Reduce, EveryOpOverEveryAxisSetMatchesANaiveLoop) {
  Generator gen(21);
  for (const Shape& shape : {Shape{2, 3, 4}, Shape{5, 1, 3, 1}, Shape{3, 2, 1, 4}, Shape{7}}) {
    const Tensor x = testing::random_tensor(shape, gen);
    for (const std::vector<int64_t>& axes : axis_subsets(x.dim()))
      for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max})
        for (bool keepdim : {false, true}) {
          const Tensor out = prim::reduce(op, x, axes, keepdim);
          EXPECT_TRUE(testing::all_close(out, naive_reduce(op, x, axes, keepdim)))
              << "op " << static_cast<int>(op) << " over ["
              << fmt::format("{}", fmt::join(axes, ",")) << "] of " << to_string(shape)
              << " keepdim " << keepdim;
        }
  }
}

TEST(Reduce, NegativeAxesAndAnEmptyAxisListMeanWhatTheySay) {
  Generator gen(22);
  const Tensor x = testing::random_tensor({3, 4}, gen);
  EXPECT_TRUE(testing::all_close(prim::reduce(ReduceOp::sum, x, {-1}, false),
                                 naive_reduce(ReduceOp::sum, x, {1}, false)));
  const Tensor all = prim::reduce(ReduceOp::mean, x, {}, false);
  EXPECT_EQ(all.shape(), Shape{});
  EXPECT_TRUE(testing::all_close(all, naive_reduce(ReduceOp::mean, x, {0, 1}, false)));
  // The backend with no axes reduces nothing: a copy.
  Tensor same(x.shape());
  cpu_backend().reduce(ReduceOp::sum, x, {}, same);
  EXPECT_EQ(same.to_vector<float>(), x.to_vector<float>());
}

TEST(Reduce, AScalarReducesToItself) {
  const Tensor x = Tensor::full({}, 2.5);
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max})
    EXPECT_EQ(prim::reduce(op, x, {}, false).item(), 2.5f);
}

TEST(Reduce, EmptyReductionsFollowNumPy) {
  const Tensor x = Tensor::zeros({0, 3});
  EXPECT_EQ(prim::reduce(ReduceOp::sum, x, {0}, false).to_vector<float>(),
            std::vector<float>(3, 0));
  for (float v : prim::reduce(ReduceOp::mean, x, {0}, true).to_vector<float>())
    EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(prim::reduce(ReduceOp::sum, x, {1}, false).shape(), Shape{0});
  EXPECT_EQ(prim::reduce(ReduceOp::sum, x, {}, false).item(), 0.0f);
  EXPECT_THROW(prim::reduce(ReduceOp::max, x, {0}, false), Error);
}

TEST(Reduce, LargeReductionsSplitOverThreadsMatchTheReference) {
  Generator gen(23);
  const Tensor tall = testing::random_tensor({4000, 24}, gen);  // few outputs: blocked rows
  const Tensor wide = testing::random_tensor({30, 3000}, gen);  // contiguous runs
  const Tensor nhwc = testing::random_tensor({8, 16, 16, 12}, gen);
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::mean, ReduceOp::max}) {
    for (const std::vector<int64_t>& axes : {std::vector<int64_t>{0}, {1}, {}})
      for (const Tensor* x : {&tall, &wide})
        EXPECT_TRUE(testing::all_close(prim::reduce(op, *x, axes, false),
                                       naive_reduce(op, *x, axes, false), 1e-4, 1e-5));
    for (const std::vector<int64_t>& axes : {std::vector<int64_t>{0, 1, 2}, {1, 2}, {0, 3}})
      EXPECT_TRUE(testing::all_close(prim::reduce(op, nhwc, axes, true),
                                     naive_reduce(op, nhwc, axes, true), 1e-4, 1e-5));
  }
}

TEST(Reduce, LongSumsAccumulateWithoutFloatDrift) {
  const int64_t n = int64_t{1} << 20;
  const Tensor x = Tensor::full({n}, 0.1);
  const double exact = static_cast<double>(n) * static_cast<double>(0.1f);
  EXPECT_NEAR(prim::reduce(ReduceOp::sum, x, {}, false).item(), exact, exact * 1e-7);
  EXPECT_NEAR(prim::reduce(ReduceOp::mean, x, {}, false).item(), 0.1f, 1e-8);
}

TEST(Reduce, MaxPropagatesNan) {
  const Tensor x = Tensor::from_vector<float>({1.f, NAN, 3.f, 0.f}, {2, 2});
  const std::vector<float> out = prim::reduce(ReduceOp::max, x, {1}, false).to_vector<float>();
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 3.f);
}

TEST(Reduce, RejectsWrongOutputsDtypesAndAxes) {
  const Tensor x = Tensor::zeros({2, 3});
  Tensor wrong({2});
  EXPECT_THROW(cpu_backend().reduce(ReduceOp::sum, x, {0}, wrong), Error);
  Tensor right({3});
  EXPECT_THROW(cpu_backend().reduce(ReduceOp::sum, x, {1, 0}, right), Error);
  Tensor i32({3}, DType::i32);
  EXPECT_THROW(cpu_backend().reduce(ReduceOp::sum, x, {0}, i32), Error);
  EXPECT_THROW(prim::reduce(ReduceOp::sum, x, {2}, false), Error);
  EXPECT_THROW(prim::reduce(ReduceOp::sum, x, {0, 0}, false), Error);
  EXPECT_THROW(prim::reduce(ReduceOp::sum, Tensor::zeros({2}, DType::u8), {0}, false), Error);
}

// Index of the first maximum of x along `axis`, by brute force.
Tensor naive_argmax(const Tensor& x, int axis) {
  const std::vector<float> v = x.to_vector<float>();
  const Shape out_shape = reduced_shape(x.shape(), {axis}, false);
  int64_t inner = 1;
  for (int64_t i = axis + 1; i < x.dim(); ++i) inner *= x.size(i);
  const int64_t n = x.size(axis), outer = x.numel() / (n * inner);
  std::vector<int32_t> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      int32_t best = 0;
      for (int32_t k = 1; k < n; ++k)
        if (v[(o * n + k) * inner + j] > v[(o * n + best) * inner + j]) best = k;
      out.push_back(best);
    }
  return Tensor::from_vector(out, out_shape);
}

TEST(Argmax, FindsTheFirstMaximumAlongEveryAxis) {
  Generator gen(24);
  // Multiples of 1/2 in [0, 2]: many ties, which must resolve to the first index.
  std::vector<float> values(3 * 5 * 4);
  for (float& v : values) v = static_cast<float>(gen.randint(5)) / 2;
  const Tensor x = Tensor::from_vector(values, {3, 5, 4});
  for (int axis = 0; axis < 3; ++axis) {
    const Tensor out = prim::argmax(x, axis);
    EXPECT_EQ(out.dtype(), DType::i32);
    EXPECT_EQ(out.to_vector<int32_t>(), naive_argmax(x, axis).to_vector<int32_t>()) << axis;
    EXPECT_EQ(prim::argmax(x, axis, true).shape(), reduced_shape(x.shape(), {axis}, true));
  }
  const Tensor big = testing::random_tensor({500, 100}, gen);
  EXPECT_EQ(prim::argmax(big, 1).to_vector<int32_t>(), naive_argmax(big, 1).to_vector<int32_t>());
  EXPECT_EQ(prim::argmax(big, 0).to_vector<int32_t>(), naive_argmax(big, 0).to_vector<int32_t>());
}

TEST(Argmax, TreatsNanAsTheMaximumAndRejectsMisuse) {
  EXPECT_EQ(prim::argmax(Tensor::from_vector<float>({1.f, NAN, 5.f, NAN}), 0).item(), 1.0f);
  EXPECT_THROW(prim::argmax(Tensor::zeros({2, 0}), 1), Error);
  Tensor wrong({3}, DType::i32);
  EXPECT_THROW(cpu_backend().argmax(Tensor::zeros({2, 4}), 1, wrong), Error);
  Tensor f32_out({2});
  EXPECT_THROW(cpu_backend().argmax(Tensor::zeros({2, 4}), 1, f32_out), Error);
}

}  // namespace
}  // namespace remix
