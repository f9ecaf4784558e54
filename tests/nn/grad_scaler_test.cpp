// GradScaler: loss scaling, unscaling, skipped steps on non-finite gradients, scale updates.
#include "nn/grad_scaler.h"

#include <gtest/gtest.h>

#include <limits>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

struct Fixture {
  Tensor p;
  std::unique_ptr<SGD> sgd;
  explicit Fixture(std::vector<float> values) : p(Tensor::from_vector(values)) {
    set_requires_grad(p, true);
    sgd = std::make_unique<SGD>(NamedTensors{{"p", p}}, 1.0);
  }
};

TEST(GradScaler, ScalesTheLossAndStepsWithUnscaledGradients) {
  Fixture f({1.f, 2.f});
  GradScaler scaler(Device::cpu(), {.init_scale = 1024.0});
  const Tensor loss = sum(mul(f.p, f.p));  // d loss / dp = 2p
  const Tensor scaled = scaler.scale(loss);
  EXPECT_FLOAT_EQ(scaled.item(), 1024.f * 5.f);
  backward(scaled);
  EXPECT_EQ(grad(f.p).to_vector<float>(), (std::vector<float>{2048.f, 4096.f}));
  scaler.step(*f.sgd);
  EXPECT_EQ(f.p.to_vector<float>(), (std::vector<float>{-1.f, -2.f}));  // p - 1.0 * 2p
  EXPECT_EQ(scaler.found_inf().item(), 0.f);
  scaler.update();
  EXPECT_EQ(scaler.scale_value(), 1024.0);
}

TEST(GradScaler, SkipsTheStepAndBacksOffOnNonFiniteGradients) {
  Fixture f({1.f, 2.f});
  GradScaler scaler(Device::cpu(), {.init_scale = 256.0});
  set_grad(f.p, Tensor::from_vector<float>({1.f, std::numeric_limits<float>::infinity()}));
  scaler.step(*f.sgd);
  EXPECT_EQ(f.p.to_vector<float>(), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(scaler.found_inf().item(), 1.f);
  scaler.update();
  EXPECT_EQ(scaler.scale_value(), 128.0);
  EXPECT_EQ(scaler.found_inf().item(), 0.f);
}

TEST(GradScaler, GrowsTheScaleAfterTheIntervalOfGoodSteps) {
  Fixture f({1.f});
  GradScaler scaler(Device::cpu(), {.init_scale = 8.0, .growth_interval = 2});
  for (int i = 0; i < 2; ++i) {
    set_grad(f.p, Tensor::from_vector<float>({8.f}));
    scaler.step(*f.sgd);
    scaler.update();
  }
  EXPECT_EQ(scaler.scale_value(), 16.0);
  EXPECT_FLOAT_EQ(f.p.item(), -1.f);  // two unscaled steps of 1.0
}

TEST(GradScaler, RestoresItsScaleAndGrowthCounterFromAState) {
  GradScaler a(Device::cpu(), {.init_scale = 8.0, .growth_interval = 3});
  Fixture f({1.f});
  set_grad(f.p, Tensor::from_vector<float>({1.f}));
  a.step(*f.sgd);
  a.update();
  GradScaler b(Device::cpu(), {.growth_interval = 3});
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(b.scale_value(), 8.0);
  EXPECT_EQ(b.state_dict()[1].second.item(), 1.f);
  EXPECT_THROW(b.load_state_dict({{"scale", Tensor::ones({1})}}), Error);
}

}  // namespace
}  // namespace remix::nn
