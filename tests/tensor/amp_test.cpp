// Dynamic loss scaling on the CPU: unscaling (f32 and 16-bit gradients, the found_inf flag) and
// the GradScaler growth/backoff sequence.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

TEST(AmpUnscale, MultipliesByTheInverseScaleAndFlagsNonFiniteResults) {
  Generator gen(41);
  Tensor grad = testing::random_tensor({100000}, gen, -1000.0, 1000.0);
  const std::vector<float> before = grad.to_vector<float>();
  const Tensor inv = Tensor::full({1}, 1.0 / 1024);
  Tensor found = Tensor::zeros({1});
  prim::amp_unscale(grad, inv, found);
  const std::vector<float> after = grad.to_vector<float>();
  for (size_t i = 0; i < before.size(); ++i) ASSERT_EQ(after[i], before[i] * (1.0f / 1024));
  EXPECT_EQ(found.item(), 0.0f);

  Tensor bad = Tensor::from_vector<float>({1.f, std::numeric_limits<float>::infinity(), 2.f});
  prim::amp_unscale(bad, inv, found);
  EXPECT_EQ(found.item(), 1.0f);
  // The flag is never cleared by unscaling: a clean tensor afterwards leaves it set.
  Tensor clean = Tensor::from_vector<float>({1.f, 2.f});
  prim::amp_unscale(clean, inv, found);
  EXPECT_EQ(found.item(), 1.0f);
  Tensor nan = Tensor::from_vector<float>({NAN});
  Tensor fresh = Tensor::zeros({1});
  prim::amp_unscale(nan, inv, fresh);
  EXPECT_EQ(fresh.item(), 1.0f);
}

TEST(AmpUnscale, WorksOnHalfAndBfloat16Gradients) {
  for (DType dtype : {DType::f16, DType::bf16}) {
    Tensor grad = Tensor::from_vector<float>({512.f, -64.f, 3.f}).to(dtype);
    Tensor found = Tensor::zeros({1});
    prim::amp_unscale(grad, Tensor::full({1}, 0.25), found);
    EXPECT_EQ(grad.dtype(), dtype);
    EXPECT_EQ(grad.to(DType::f32).to_vector<float>(), (std::vector<float>{128.f, -16.f, 0.75f}));
    EXPECT_EQ(found.item(), 0.0f);
    Tensor overflowed = Tensor::from_vector<float>({1e30f}).to(dtype);  // inf in f16
    prim::amp_unscale(overflowed, Tensor::full({1}, 1e-30), found);
    EXPECT_EQ(found.item(), dtype == DType::f16 ? 1.0f : 0.0f);
  }
}

TEST(AmpUpdateScale, GrowsAfterIntervalCleanStepsAndBacksOffOnOverflow) {
  Tensor scale = Tensor::full({1}, 1024.0), inv = Tensor::zeros({1});
  Tensor found = Tensor::zeros({1}), tracker = Tensor::zeros({1});
  // growth 2, backoff 0.5, interval 3. Each step: (overflowed?, scale after, counter after).
  struct Step {
    bool overflow;
    float scale, tracker;
  };
  const Step steps[] = {
      {false, 1024, 1}, {false, 1024, 2}, {false, 2048, 0},  // third clean step: grow
      {false, 2048, 1}, {true, 1024, 0},                     // overflow: halve, restart
      {false, 1024, 1}, {false, 1024, 2}, {true, 512, 0},    // overflow before growing
      {false, 512, 1},  {false, 512, 2},  {false, 1024, 0}};
  int i = 0;
  for (const Step& s : steps) {
    found.data<float>()[0] = s.overflow ? 1.0f : 0.0f;
    prim::amp_update_scale(scale, inv, found, tracker, 2.0, 0.5, 3);
    EXPECT_EQ(scale.item(), s.scale) << "step " << i;
    EXPECT_EQ(tracker.item(), s.tracker) << "step " << i;
    EXPECT_EQ(inv.item(), 1.0f / s.scale) << "step " << i;
    EXPECT_EQ(found.item(), 0.0f) << "step " << i;
    ++i;
  }
}

TEST(AmpUpdateScale, KeepsTheScaleWhenGrowingWouldOverflow) {
  const float huge = std::numeric_limits<float>::max() / 1.5f;
  Tensor scale = Tensor::full({1}, huge), inv = Tensor::zeros({1});
  Tensor found = Tensor::zeros({1}), tracker = Tensor::zeros({1});
  prim::amp_update_scale(scale, inv, found, tracker, 2.0, 0.5, 1);
  EXPECT_EQ(scale.item(), huge);
  EXPECT_EQ(tracker.item(), 0.0f);
}

TEST(Amp, RejectsMisuse) {
  Tensor grad = Tensor::zeros({3}, DType::i32), found = Tensor::zeros({1});
  EXPECT_THROW(prim::amp_unscale(grad, Tensor::full({1}, 1.0), found), Error);
  Tensor f = Tensor::zeros({3});
  Tensor two_flags = Tensor::zeros({2});
  EXPECT_THROW(cpu_backend().amp_unscale({&f}, Tensor::full({1}, 1.0), two_flags), Error);
  Tensor scale = Tensor::full({1}, 1.0), inv = Tensor::zeros({1}), tracker = Tensor::zeros({1});
  EXPECT_THROW(prim::amp_update_scale(scale, inv, found, tracker, 0.5, 0.5, 3), Error);
  Tensor i32_tracker = Tensor::zeros({1}, DType::i32);
  EXPECT_THROW(cpu_backend().amp_update_scale(scale, inv, found, i32_tracker, 2.0, 0.5, 3), Error);
}

}  // namespace
}  // namespace remix
