// Gradients of the reductions (sum, mean, max) over several axis sets, with and without keepdim;
// mean's forward value against a hand computation; max's gradient shared between ties.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

using Reduction = Tensor (*)(const Tensor&, const std::vector<int64_t>&, bool);

const std::vector<std::vector<int64_t>> kAxisSets = {{}, {0}, {1}, {-1}, {0, 2}, {1, 2}};

// Distinct values 0.1 apart in random order: a perturbation of 1e-2 never changes a maximum.
Tensor distinct_values(const Shape& shape, Generator& gen) {
  const std::vector<int64_t> order = gen.permutation(numel(shape));
  std::vector<float> v(order.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>(order[i]) - 1.0f;
  return Tensor::from_vector(v, shape);
}

void expect_reduction_gradients(Reduction reduce, const Tensor& x) {
  for (const auto& axes : kAxisSets) {
    for (bool keepdim : {false, true}) {
      EXPECT_TRUE(gradient_matches(
          [&](const std::vector<Tensor>& in) { return reduce(in[0], axes, keepdim); }, {x}))
          << "axes [" << fmt::format("{}", fmt::join(axes, ", ")) << "] keepdim " << keepdim;
    }
  }
}

TEST(SumGradient, MatchesNumericalOverSeveralAxisSets) {
  Generator gen(1);
  expect_reduction_gradients([](const Tensor& x, const std::vector<int64_t>& a, bool k) {
    return sum(x, a, k);
  }, random_tensor({2, 3, 4}, gen));
}

TEST(MeanGradient, MatchesNumericalOverSeveralAxisSets) {
  Generator gen(2);
  expect_reduction_gradients([](const Tensor& x, const std::vector<int64_t>& a, bool k) {
    return mean(x, a, k);
  }, random_tensor({2, 3, 4}, gen));
}

TEST(MaxGradient, MatchesNumericalOverSeveralAxisSetsWithoutTies) {
  Generator gen(3);
  expect_reduction_gradients([](const Tensor& x, const std::vector<int64_t>& a, bool k) {
    return max(x, a, k);
  }, distinct_values({2, 3, 4}, gen));
}

TEST(Mean, DividesTheSumByTheNumberOfReducedElements) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(all_close(mean(x), Tensor::from_vector<float>({3.5f})));
  EXPECT_TRUE(all_close(mean(x, {1}), Tensor::from_vector<float>({2, 5})));
  EXPECT_TRUE(all_close(mean(x, {0}, true), Tensor::from_vector<float>({2.5, 3.5, 4.5}, {1, 3})));
}

TEST(MaxGradient, IsSharedEquallyBetweenTiedMaxima) {
  Tensor x = Tensor::from_vector<float>({1, 3, 3, 2, 5, 5, 5, 0}, {2, 4});
  set_requires_grad(x);
  backward(sum(max(x, {1})));
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({0, 0.5, 0.5, 0, 1 / 3.f, 1 / 3.f,
                                                              1 / 3.f, 0},
                                                             {2, 4})));
}

TEST(Argmax, GivesTheFirstMaximumAndRecordsNothing) {
  Tensor x = Tensor::from_vector<float>({1, 3, 3, 2, 5, 0}, {2, 3});
  set_requires_grad(x);
  const Tensor i = argmax(x, 1);
  EXPECT_EQ(i.to_vector<int32_t>(), (std::vector<int32_t>{1, 1}));
  EXPECT_FALSE(requires_grad(i));
}

}  // namespace
}  // namespace remix
