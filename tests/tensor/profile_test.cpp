// The per-kind step profile (tensor/profile.h): primitives time themselves under their kind,
// only the outermost scope counts, and nothing is recorded while timing is off.
#include "tensor/profile.h"

#include <gtest/gtest.h>

#include <string>

#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

class Profile : public ::testing::Test {
 protected:
  void SetUp() override { profile::reset(); }
  void TearDown() override {
    profile::enable(false);
    profile::reset();
  }
  static profile::Total total(profile::Kind kind) {
    return profile::totals()[static_cast<int>(kind)];
  }
};

TEST_F(Profile, RecordsNothingWhileDisabled) {
  const Tensor x = Tensor::ones({4, 4});
  prim::unary(UnaryOp::relu, x);
  for (const profile::Total& t : profile::totals()) EXPECT_EQ(t.calls, 0);
}

TEST_F(Profile, CountsEachPrimitiveUnderItsKind) {
  Generator gen(1);
  const Tensor x = testing::random_tensor({2, 5, 5, 3}, gen);
  const Tensor w = testing::random_tensor({4, 3, 3, 3}, gen);
  const Conv2dGeometry g = make_conv2d_geometry(x.shape(), w.shape(), 1, 1, 1, 1);
  profile::enable(true);
  prim::conv2d_forward(x, w, g);
  prim::conv2d_forward(x, w, g);
  prim::unary(UnaryOp::relu, x);
  EXPECT_EQ(total(profile::Kind::conv_forward).calls, 2);
  EXPECT_GT(total(profile::Kind::conv_forward).seconds, 0.0);
  EXPECT_EQ(total(profile::Kind::elementwise).calls, 1);
  EXPECT_EQ(total(profile::Kind::batch_norm).calls, 0);
}

TEST_F(Profile, CountsOnlyTheOutermostScope) {
  const Tensor ones = Tensor::ones({8});
  profile::enable(true);
  {
    const profile::Scope augmentation(profile::Kind::augmentation);
    prim::unary(UnaryOp::relu, ones);  // elementwise inside: augmentation's time
  }
  EXPECT_EQ(total(profile::Kind::augmentation).calls, 1);
  EXPECT_EQ(total(profile::Kind::elementwise).calls, 0);
}

TEST_F(Profile, EveryKindHasAName) {
  for (int k = 0; k < profile::kKinds; ++k)
    EXPECT_NE(std::string(profile::kind_name(static_cast<profile::Kind>(k))), "");
}

}  // namespace
}  // namespace remix
