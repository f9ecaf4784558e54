// Optimizer updates on the CPU: SGD (momentum, dampening, Nesterov, weight decay) and AdamW for
// three steps each against a hand-written loop of the torch.optim formulas, the learning rate
// read from its tensor, the skip flag, and misuse.
#include <gtest/gtest.h>

#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

constexpr float kRates[] = {0.1f, 0.05f, 0.2f};  // a different learning rate at each step

// torch.optim.SGD.step for one parameter, element by element, in double.
void reference_sgd(std::vector<double>& p, const std::vector<float>& grad, std::vector<double>& buf,
                   double lr, const SgdOptions& o, bool first) {
  for (size_t i = 0; i < p.size(); ++i) {
    double g = grad[i];
    if (o.weight_decay != 0) g += o.weight_decay * p[i];
    if (o.momentum != 0) {
      buf[i] = first ? g : o.momentum * buf[i] + (1 - o.dampening) * g;
      g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
    }
    p[i] -= lr * g;
  }
}

std::vector<double> as_double(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  return {v.begin(), v.end()};
}

void expect_near(const Tensor& actual, const std::vector<double>& expected, double tol) {
  const std::vector<float> a = actual.to_vector<float>();
  ASSERT_EQ(a.size(), expected.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], expected[i], tol) << "element " << i;
}

TEST(SgdUpdate, MatchesTorchSgdForThreeStepsInEveryConfiguration) {
  std::vector<SgdOptions> configs(6);
  configs[1].momentum = 0.9;
  configs[2].momentum = 0.9, configs[2].dampening = 0.3;
  configs[3].momentum = 0.9, configs[3].nesterov = true;
  configs[4].weight_decay = 5e-2;
  configs[5].momentum = 0.8, configs[5].weight_decay = 1e-2, configs[5].nesterov = true;
  Generator gen(31);
  for (const SgdOptions& opt : configs) {
    Tensor param = testing::random_tensor({4, 5}, gen);
    Tensor buffer = Tensor::full({4, 5}, 123.0);  // garbage: the first step must overwrite it
    std::vector<double> p = as_double(param), buf(20, 0.0);
    Tensor count = Tensor::zeros({1});
    for (int step = 0; step < 3; ++step) {
      const Tensor grad = testing::random_tensor({4, 5}, gen);
      const Tensor lr = Tensor::full({1}, kRates[step]);
      prim::sgd_update(param, grad, buffer, lr, opt, count);
      reference_sgd(p, grad.to_vector<float>(), buf, kRates[step], opt, step == 0);
    }
    expect_near(param, p, 1e-5);
    if (opt.momentum != 0) expect_near(buffer, buf, 1e-5);
    EXPECT_EQ(count.item(), 3.0f);
  }
}

TEST(SgdUpdate, SkipFlagLeavesParameterBufferAndCountUntouched) {
  Generator gen(32);
  Tensor param = testing::random_tensor({6}, gen);
  Tensor buffer = testing::random_tensor({6}, gen);
  const Tensor grad = testing::random_tensor({6}, gen);
  const std::vector<float> p0 = param.to_vector<float>(), b0 = buffer.to_vector<float>();
  SgdOptions opt;
  opt.momentum = 0.9;
  const Tensor lr = Tensor::full({1}, 0.1), skip = Tensor::full({1}, 1.0);
  Tensor count = Tensor::full({1}, 2.0);
  prim::sgd_update(param, grad, buffer, lr, opt, count, &skip);
  EXPECT_EQ(param.to_vector<float>(), p0);
  EXPECT_EQ(buffer.to_vector<float>(), b0);
  EXPECT_EQ(count.item(), 2.0f);
  const Tensor go = Tensor::full({1}, 0.0);
  prim::sgd_update(param, grad, buffer, lr, opt, count, &go);
  EXPECT_NE(param.to_vector<float>(), p0);
  EXPECT_EQ(count.item(), 3.0f);
}

// A skipped first update does not start the momentum buffer: the first applied one does, with
// buf = g (not momentum * 0 + (1 - dampening) * g), as when PyTorch's GradScaler skips step().
TEST(SgdUpdate, TheFirstAppliedUpdateStartsTheMomentumBuffer) {
  Generator gen(35);
  SgdOptions opt;
  opt.momentum = 0.9, opt.dampening = 0.5;
  const Tensor grad = testing::random_tensor({6}, gen), lr = Tensor::full({1}, 0.1);
  const Tensor skip = Tensor::full({1}, 1.0), go = Tensor::full({1}, 0.0);
  Tensor param = testing::random_tensor({6}, gen), buffer = Tensor::zeros({6});
  Tensor count = Tensor::zeros({1});
  prim::sgd_update(param, grad, buffer, lr, opt, count, &skip);
  prim::sgd_update(param, grad, buffer, lr, opt, count, &go);
  EXPECT_EQ(buffer.to_vector<float>(), grad.to_vector<float>());
  EXPECT_EQ(count.item(), 1.0f);
}

// torch.optim.AdamW.step for one parameter, element by element, in double.
void reference_adamw(std::vector<double>& p, const std::vector<float>& g, std::vector<double>& m,
                     std::vector<double>& v, double lr, int64_t t, const AdamWOptions& o) {
  const double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] *= 1 - lr * o.weight_decay;
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
    p[i] -= lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + o.eps);
  }
}

TEST(AdamwUpdate, MatchesTorchAdamwForThreeSteps) {
  Generator gen(33);
  for (double weight_decay : {0.0, 0.1}) {
    AdamWOptions opt;
    opt.weight_decay = weight_decay;
    opt.beta1 = 0.8;
    Tensor param = testing::random_tensor({3, 7}, gen);
    Tensor m = Tensor::zeros({3, 7}), v = Tensor::zeros({3, 7});
    std::vector<double> p = as_double(param), rm(21, 0.0), rv(21, 0.0);
    Tensor count = Tensor::zeros({1});
    for (int64_t step = 1; step <= 3; ++step) {
      const Tensor grad = testing::random_tensor({3, 7}, gen);
      const Tensor lr = Tensor::full({1}, kRates[step - 1] / 10);
      prim::adamw_update(param, grad, m, v, lr, count, opt);
      reference_adamw(p, grad.to_vector<float>(), rm, rv, kRates[step - 1] / 10, step, opt);
    }
    expect_near(param, p, 1e-6);
    expect_near(m, rm, 1e-6);
    expect_near(v, rv, 1e-7);
    EXPECT_EQ(count.item(), 3.0f);
  }
}

TEST(AdamwUpdate, SkipFlagLeavesEverythingUntouched) {
  Generator gen(34);
  Tensor param = testing::random_tensor({5}, gen);
  Tensor m = testing::random_tensor({5}, gen), v = testing::random_tensor({5}, gen, 0.0, 1.0);
  const std::vector<float> p0 = param.to_vector<float>(), m0 = m.to_vector<float>();
  const Tensor skip = Tensor::full({1}, 1.0), lr = Tensor::full({1}, 0.01);
  Tensor count = Tensor::full({1}, 4.0);
  prim::adamw_update(param, testing::random_tensor({5}, gen), m, v, lr, count, AdamWOptions{},
                     &skip);
  EXPECT_EQ(param.to_vector<float>(), p0);
  EXPECT_EQ(m.to_vector<float>(), m0);
  EXPECT_EQ(count.item(), 4.0f);  // the bias correction of the next update counts applied ones
}

// A call with many slots does what one call per slot does, each slot with its own count.
TEST(Optimizers, UpdateManyParametersInOneCall) {
  Generator gen(36);
  SgdOptions sgd;
  sgd.momentum = 0.9, sgd.weight_decay = 1e-3;
  std::vector<Tensor> params, grads, buffers, counts, one_by_one;
  for (int64_t n : {3, 17, 1, 40}) {
    params.push_back(testing::random_tensor({n}, gen));
    grads.push_back(testing::random_tensor({n}, gen));
    buffers.push_back(Tensor::zeros({n}));
    counts.push_back(Tensor::full({1}, n == 17 ? 2.0 : 0.0));
  }
  const Tensor lr = Tensor::full({1}, 0.1);
  std::vector<SgdSlot> slots;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor p = params[i].clone(), b = buffers[i].clone(), c = counts[i].clone();
    prim::sgd_update(p, grads[i], b, lr, sgd, c);
    one_by_one.push_back(p);
    slots.push_back({&params[i], &grads[i], &buffers[i], &counts[i]});
  }
  prim::sgd_update(slots, lr, sgd);
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].to_vector<float>(), one_by_one[i].to_vector<float>()) << i;
    EXPECT_EQ(counts[i].item(), params[i].numel() == 17 ? 3.0f : 1.0f) << i;
  }
}

TEST(Optimizers, RejectMismatchedShapesDtypesAndSteps) {
  Tensor param = Tensor::zeros({4}), buffer = Tensor::zeros({4});
  const Tensor lr = Tensor::full({1}, 0.1);
  SgdOptions momentum;
  momentum.momentum = 0.9;
  Tensor count = Tensor::zeros({1});
  EXPECT_THROW(prim::sgd_update(param, Tensor::zeros({5}), buffer, lr, {}, count), Error);
  EXPECT_THROW(prim::sgd_update(param, Tensor::zeros({4}, DType::f16), buffer, lr, {}, count),
               Error);
  Tensor short_buffer = Tensor::zeros({3});
  const Tensor grad4 = Tensor::zeros({4});
  EXPECT_THROW(
      cpu_backend().sgd_update({{&param, &grad4, &short_buffer, &count}}, lr, momentum, nullptr),
      Error);
  Tensor m = Tensor::zeros({4}), v = Tensor::zeros({4});
  Tensor negative = Tensor::full({1}, -1.0), two = Tensor::zeros({2});
  EXPECT_THROW(prim::adamw_update(param, Tensor::zeros({4}), m, v, lr, negative, {}), Error);
  EXPECT_THROW(prim::adamw_update(param, Tensor::zeros({4}), m, v, lr, two, {}), Error);
  Tensor wrong_v = Tensor::zeros({2, 2});
  EXPECT_THROW(
      cpu_backend().adamw_update({{&param, &grad4, &m, &wrong_v, &count}}, lr, {}, nullptr), Error);
  EXPECT_THROW(
      prim::sgd_update(param, Tensor::zeros({4}), buffer, Tensor::full({2}, 0.1), {}, count),
      Error);
}

}  // namespace
}  // namespace remix
