// dropout: the mask comes from the caller's generator (same seed, same mask), kept elements are
// scaled by 1 / (1 - p), the gradient is dy times the same mask, and p = 0 / p = 1 are exact.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

TEST(DropoutGradient, MatchesNumericalWithTheSameMaskOnEveryCall) {
  Generator gen(1);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) {
        Generator mask_gen(42);  // re-seeded: every evaluation draws the same mask
        return dropout(in[0], 0.4, mask_gen);
      },
      {random_tensor({3, 8}, gen)}));
}

TEST(DropoutGradient, IsDyTimesTheScaledMask) {
  Generator gen(2), mask_gen(3);
  Tensor x = random_tensor({4, 25}, gen, 0.5, 1.5);  // nonzero: y / x recovers the mask
  set_requires_grad(x);
  const double p = 0.3;
  const Tensor y = dropout(x, p, mask_gen);
  const Tensor dy = random_tensor({4, 25}, gen);
  backward(y, dy);
  const std::vector<float> xv = x.to_vector<float>(), yv = y.to_vector<float>();
  const std::vector<float> dyv = dy.to_vector<float>(), dxv = grad(x).to_vector<float>();
  int kept = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const float mask = yv[i] / xv[i];
    ASSERT_TRUE(mask == 0 || std::abs(mask - 1 / (1 - p)) < 1e-5) << "element " << i << ": " << mask;
    EXPECT_FLOAT_EQ(dxv[i], dyv[i] * mask);
    kept += mask != 0;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, static_cast<int>(xv.size()));
}

TEST(Dropout, KeepsAboutOneMinusPOfTheElementsAndTheMean) {
  Generator mask_gen(4);
  const Tensor y = dropout(Tensor::ones({10000}), 0.25, mask_gen);
  int kept = 0;
  for (float v : y.to_vector<float>()) kept += v != 0;
  // Binomial(10000, 0.75): standard deviation ~43.
  EXPECT_NEAR(kept, 7500, 200);
  EXPECT_NEAR(mean(y).item(), 1.0, 0.03);
}

TEST(Dropout, DrawsTheSameMaskFromTheSameSeed) {
  Generator gen(5);
  const Tensor x = random_tensor({50}, gen);
  Generator first(9), second(9);
  EXPECT_TRUE(all_close(dropout(x, 0.5, first), dropout(x, 0.5, second), 0, 0));
}

TEST(Dropout, WithPZeroIsTheIdentityAndWithPOneGivesZeros) {
  Generator gen(6), mask_gen(7);
  Tensor x = random_tensor({10}, gen);
  set_requires_grad(x);
  EXPECT_TRUE(all_close(dropout(x, 0.0, mask_gen), x, 0, 0));
  const Tensor dropped = dropout(x, 1.0, mask_gen);
  EXPECT_TRUE(all_close(dropped, Tensor::zeros({10}), 0, 0));
  backward(sum(dropped));
  EXPECT_TRUE(all_close(grad(x), Tensor::zeros({10}), 0, 0));
  EXPECT_THROW(dropout(x, 1.5, mask_gen), Error);
}

}  // namespace
}  // namespace remix
