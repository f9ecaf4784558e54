// Gradients of the operations that move values: reshape, flatten, cast, broadcast_to and the
// channel slice / concatenation / zero-padding of NHWC tensors.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

TEST(ReshapeGradient, MatchesNumerical) {
  Generator gen(1);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) {
        // A weighting that differs per element, so a permuted gradient would show.
        return mul(reshape(in[0], {4, -1}), reshape(in[0], {4, 6}));
      },
      {random_tensor({2, 3, 4}, gen)}));
}

TEST(Flatten, KeepsTheAxesBeforeTheStartAxis) {
  Generator gen(2);
  const Tensor x = random_tensor({2, 3, 4, 5}, gen);
  EXPECT_EQ(flatten(x).shape(), (Shape{2, 60}));
  EXPECT_EQ(flatten(x, 2).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(flatten(x, 0).shape(), (Shape{120}));
  EXPECT_TRUE(gradient_matches([](const std::vector<Tensor>& in) { return square(flatten(in[0])); },
                               {x}, {.eps = 1e-3}));
}

TEST(Cast, ToTheSameDtypeIsANoOpThatKeepsTheGradient) {
  Tensor x = Tensor::from_vector<float>({1, -2, 3});
  set_requires_grad(x);
  const Tensor y = cast(x, DType::f32);
  EXPECT_TRUE(y.same_storage(x));
  backward(sum(mul(y, 2.0)));
  EXPECT_EQ(grad(x).dtype(), DType::f32);
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({2, 2, 2})));
}

TEST(CastGradient, IsCastBackToTheInputDtype) {
  // bf16 holds these exactly, so values survive both conversions.
  Tensor x = Tensor::from_vector<float>({1, -2, 0.5, 4}).to(DType::bf16);
  set_requires_grad(x);
  const Tensor y = cast(x, DType::f32);
  EXPECT_EQ(y.dtype(), DType::f32);
  backward(sum(mul(y, Tensor::from_vector<float>({1, 2, 3, 4}))));
  ASSERT_EQ(grad(x).dtype(), DType::bf16);
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({1, 2, 3, 4})));
}

TEST(CastGradient, MatchesNumericalThroughARoundTrip) {
  Generator gen(3);
  // f32 -> f16 -> f32 changes values by at most a rounding; the gradient is exactly dy.
  Tensor x = random_tensor({6}, gen);
  set_requires_grad(x);
  const Tensor w = random_tensor({6}, gen);
  backward(sum(mul(cast(cast(x, DType::f16), DType::f32), w)));
  EXPECT_EQ(grad(x).dtype(), DType::f32);
  EXPECT_TRUE(all_close(grad(x), w, 1e-3, 1e-3));
}

TEST(BroadcastToGradient, SumsOverTheCopies) {
  Generator gen(4);
  for (const Shape& from : {Shape{3, 1}, Shape{4}, Shape{1}, Shape{2, 1, 4}}) {
    EXPECT_TRUE(gradient_matches(
        [](const std::vector<Tensor>& in) {
          return broadcast_to(in[0], {2, 3, 4});
        },
        {random_tensor(from, gen)}))
        << to_string(from);
  }
}

TEST(SliceChannelsGradient, MatchesNumericalAtTheStartMiddleAndEnd) {
  Generator gen(5);
  const Tensor x = random_tensor({2, 2, 3, 7}, gen);
  for (const std::pair<int, int> slice :
       {std::pair{0, 3}, std::pair{2, 4}, std::pair{4, 3}, std::pair{0, 7}}) {
    const int start = slice.first, count = slice.second;  // clang 14 cannot capture a binding
    EXPECT_TRUE(gradient_matches(
        [start, count](const std::vector<Tensor>& in) {
          return slice_channels(in[0], start, count);
        },
        {x}, {.max_elements = 84}))
        << "start " << start << " count " << count;
  }
}

TEST(ConcatChannelsGradient, GoesToEachPartThatRequiresIt) {
  Generator gen(6);
  const Tensor a = random_tensor({2, 3, 2}, gen), b = random_tensor({2, 3, 3}, gen),
               c = random_tensor({2, 3, 1}, gen);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) {
        return concat_channels({in[0], in[1], in[2]});
      },
      {a, b, c}));
  // A part that needs no gradient gets none.
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) {
        return concat_channels({in[0], in[1], in[2]});
      },
      {a, b, c}, {.check_input = {true, false, true}}));
}

TEST(PadChannelsGradient, DropsThePaddedChannels) {
  Generator gen(7);
  EXPECT_TRUE(gradient_matches([](const std::vector<Tensor>& in) { return pad_channels(in[0], 5); },
                               {random_tensor({2, 2, 2, 3}, gen)}));
}

}  // namespace
}  // namespace remix
