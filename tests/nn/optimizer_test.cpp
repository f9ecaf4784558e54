// SGD and AdamW against hand-written loops of PyTorch's formulas; skipping; state round trips.
#include "nn/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/node.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

using Vec = std::vector<double>;

Tensor to_tensor(const Vec& v) {
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()));
}

// A fresh trainable parameter with the given values.
Tensor parameter(const Vec& v) {
  Tensor p = to_tensor(v);
  set_requires_grad(p, true);
  return p;
}

const Vec kStart = {0.5, -1.0, 2.0, 0.0, -0.25};
const std::vector<Vec> kGrads = {
    {0.1, -0.2, 0.3, 0.0, 1.0}, {-0.5, 0.4, 0.1, 0.2, -0.3}, {0.05, 0.05, -0.6, 0.3, 0.2}};
const Vec kLrs = {0.1, 0.05, 0.2};

// torch.optim.SGD, written out: g = grad + wd p; buf = g (first) or m buf + (1 - d) g;
// g = nesterov ? g + m buf : buf; p -= lr g.
Vec reference_sgd(const SgdOptions& o) {
  Vec p = kStart, buf(p.size(), 0.0);
  for (size_t t = 0; t < kGrads.size(); ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      double g = kGrads[t][i] + o.weight_decay * p[i];
      if (o.momentum != 0) {
        buf[i] = t == 0 ? g : o.momentum * buf[i] + (1 - o.dampening) * g;
        g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
      }
      p[i] -= kLrs[t] * g;
    }
  return p;
}

// torch.optim.AdamW, written out.
Vec reference_adamw(const AdamWOptions& o) {
  Vec p = kStart, m(p.size(), 0.0), v(p.size(), 0.0);
  for (size_t t = 0; t < kGrads.size(); ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      const double g = kGrads[t][i];
      p[i] *= 1 - kLrs[t] * o.weight_decay;
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      const double mhat = m[i] / (1 - std::pow(o.beta1, t + 1));
      const double vhat = v[i] / (1 - std::pow(o.beta2, t + 1));
      p[i] -= kLrs[t] * mhat / (std::sqrt(vhat) + o.eps);
    }
  return p;
}

Tensor run_three_steps(Optimizer& opt, Tensor& p) {
  for (size_t t = 0; t < kGrads.size(); ++t) {
    opt.set_lr(kLrs[t]);
    set_grad(p, to_tensor(kGrads[t]));
    opt.step();
  }
  return p;
}

TEST(SGD, ThreeStepsMatchTorchWithMomentumNesterovAndWeightDecay) {
  for (const SgdOptions& o : {SgdOptions{0.9, 0.0, 5e-2, true}, SgdOptions{0.9, 0.1, 1e-2, false},
                              SgdOptions{0.0, 0.0, 0.1, false}}) {
    Tensor p = parameter(kStart);
    SGD opt({{"w", p}}, 0.1, o);
    EXPECT_TRUE(
        testing::all_close(run_three_steps(opt, p), to_tensor(reference_sgd(o)), 1e-6, 1e-5))
        << "momentum " << o.momentum << " dampening " << o.dampening << " nesterov " << o.nesterov;
    EXPECT_EQ(opt.step_count(), 3);
  }
}

TEST(AdamW, ThreeStepsMatchTorch) {
  const AdamWOptions o{0.9, 0.99, 1e-8, 0.05};
  Tensor p = parameter(kStart);
  AdamW opt({{"w", p}}, 0.1, o);
  EXPECT_TRUE(
      testing::all_close(run_three_steps(opt, p), to_tensor(reference_adamw(o)), 1e-6, 1e-5));
}

TEST(Optimizer, HoldsTheLearningRateInADeviceTensor) {
  Tensor p = parameter(kStart);
  SGD opt({{"w", p}}, 0.3);
  EXPECT_FLOAT_EQ(opt.lr_tensor().item(), 0.3f);
  opt.set_lr(0.01);
  EXPECT_FLOAT_EQ(opt.lr_tensor().item(), 0.01f);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.01);
}

TEST(Optimizer, SkipsTheUpdateWhenTheDeviceFlagIsSet) {
  Tensor p = parameter(kStart);
  SGD opt({{"w", p}}, 0.1, {0.9, 0.0, 0.0, false});
  set_grad(p, to_tensor(kGrads[0]));
  const Tensor skip = Tensor::ones({1}), apply = Tensor::zeros({1});
  opt.step(&skip);
  EXPECT_EQ(p.to_vector<float>(), to_tensor(kStart).to_vector<float>());
  opt.step(&apply);
  EXPECT_NE(p.to_vector<float>(), to_tensor(kStart).to_vector<float>());
}

// As PyTorch's GradScaler, which does not call step() when a gradient overflowed: a dropped step
// changes no state, so the run continues exactly as one that never saw it (AdamW's bias
// correction and SGD's momentum start with dampening depend on it).
TEST(Optimizer, ADroppedStepLeavesTheStateAsItWas) {
  for (bool adam : {false, true}) {
    auto make = [&](Tensor& p) -> std::unique_ptr<Optimizer> {
      if (adam) return std::make_unique<AdamW>(NamedTensors{{"w", p}}, 0.1);
      return std::make_unique<SGD>(NamedTensors{{"w", p}}, 0.1, SgdOptions{0.9, 0.5, 1e-3, false});
    };
    Tensor dropped = parameter(kStart), plain = parameter(kStart);
    auto with_drop = make(dropped), without = make(plain);
    const Tensor skip = Tensor::ones({1});
    set_grad(dropped, to_tensor(kGrads[1]));
    with_drop->step(&skip);
    EXPECT_EQ(with_drop->state_dict().tensors.empty(), !adam);  // AdamW: zeros and step 0
    run_three_steps(*with_drop, dropped);
    run_three_steps(*without, plain);
    EXPECT_EQ(dropped.to_vector<float>(), plain.to_vector<float>()) << "adam " << adam;
    EXPECT_EQ(with_drop->step_count(), 4);  // calls of step(), the loop's iterations
  }
}

TEST(Optimizer, LeavesParametersWithoutAGradientAlone) {
  Tensor used = parameter(kStart), unused = parameter(kStart);
  SGD opt({{"used", used}, {"unused", unused}}, 0.1, {0.9, 0.0, 0.0, false});
  set_grad(used, to_tensor(kGrads[0]));
  opt.step();
  EXPECT_EQ(unused.to_vector<float>(), to_tensor(kStart).to_vector<float>());
  const OptimizerState state = opt.state_dict();
  ASSERT_EQ(state.tensors.size(), 1u);
  EXPECT_EQ(state.tensors[0].first, "momentum_buffer.used");
}

TEST(Optimizer, ContinuesIdenticallyFromASavedState) {
  for (bool adam : {false, true}) {
    auto make = [&](Tensor& p) -> std::unique_ptr<Optimizer> {
      if (adam) return std::make_unique<AdamW>(NamedTensors{{"w", p}}, 0.1);
      return std::make_unique<SGD>(NamedTensors{{"w", p}}, 0.1, SgdOptions{0.9, 0.0, 1e-3, true});
    };
    Tensor a = parameter(kStart), b = parameter(kStart);
    auto first = make(a), second = make(b);
    for (int t = 0; t < 2; ++t) {
      set_grad(a, to_tensor(kGrads[t]));
      first->step();
    }
    second->load_state_dict(first->state_dict());
    EXPECT_EQ(second->step_count(), 2);
    const std::vector<float> values = a.to_vector<float>();  // the model checkpoint's part
    copy_host_to_tensor(values.data(), a.nbytes(), b);
    set_grad(a, to_tensor(kGrads[2]));
    set_grad(b, to_tensor(kGrads[2]));
    first->step();
    second->step();
    EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>()) << (adam ? "AdamW" : "SGD");
  }
}

TEST(Optimizer, RejectsStateForOtherParametersOrShapes) {
  Tensor p = parameter(kStart);
  SGD opt({{"w", p}}, 0.1, {0.9});
  OptimizerState bad_name{{{"momentum_buffer.v", Tensor::zeros({5})}}, 1};
  OptimizerState bad_shape{{{"momentum_buffer.w", Tensor::zeros({4})}}, 1};
  OptimizerState bad_state{{{"exp_avg.w", Tensor::zeros({5})}}, 1};
  EXPECT_THROW(opt.load_state_dict(bad_name), Error);
  EXPECT_THROW(opt.load_state_dict(bad_shape), Error);
  EXPECT_THROW(opt.load_state_dict(bad_state), Error);
  EXPECT_THROW(SGD({}, 0.1), Error);
  EXPECT_THROW(SGD({{"w", p}}, 0.1, {0.0, 0.0, 0.0, true}), Error);  // Nesterov without momentum
}

}  // namespace
}  // namespace remix::nn
