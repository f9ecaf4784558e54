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
    for (int step = 0; step < 3; ++step) {
      const Tensor grad = testing::random_tensor({4, 5}, gen);
      const Tensor lr = Tensor::full({1}, kRates[step]);
      prim::sgd_update(param, grad, buffer, lr, opt, step == 0);
      reference_sgd(p, grad.to_vector<float>(), buf, kRates[step], opt, step == 0);
    }
    expect_near(param, p, 1e-5);
    if (opt.momentum != 0) expect_near(buffer, buf, 1e-5);
  }
}

TEST(SgdUpdate, SkipFlagLeavesParameterAndBufferUntouched) {
  Generator gen(32);
  Tensor param = testing::random_tensor({6}, gen);
  Tensor buffer = testing::random_tensor({6}, gen);
  const Tensor grad = testing::random_tensor({6}, gen);
  const std::vector<float> p0 = param.to_vector<float>(), b0 = buffer.to_vector<float>();
  SgdOptions opt;
  opt.momentum = 0.9;
  const Tensor lr = Tensor::full({1}, 0.1), skip = Tensor::full({1}, 1.0);
  prim::sgd_update(param, grad, buffer, lr, opt, false, &skip);
  EXPECT_EQ(param.to_vector<float>(), p0);
  EXPECT_EQ(buffer.to_vector<float>(), b0);
  const Tensor go = Tensor::full({1}, 0.0);
  prim::sgd_update(param, grad, buffer, lr, opt, false, &go);
  EXPECT_NE(param.to_vector<float>(), p0);
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
    for (int64_t step = 1; step <= 3; ++step) {
      const Tensor grad = testing::random_tensor({3, 7}, gen);
      const Tensor lr = Tensor::full({1}, kRates[step - 1] / 10);
      prim::adamw_update(param, grad, m, v, lr, step, opt);
      reference_adamw(p, grad.to_vector<float>(), rm, rv, kRates[step - 1] / 10, step, opt);
    }
    expect_near(param, p, 1e-6);
    expect_near(m, rm, 1e-6);
    expect_near(v, rv, 1e-7);
  }
}

TEST(AdamwUpdate, SkipFlagLeavesEverythingUntouched) {
  Generator gen(34);
  Tensor param = testing::random_tensor({5}, gen);
  Tensor m = testing::random_tensor({5}, gen), v = testing::random_tensor({5}, gen, 0.0, 1.0);
  const std::vector<float> p0 = param.to_vector<float>(), m0 = m.to_vector<float>();
  const Tensor skip = Tensor::full({1}, 1.0), lr = Tensor::full({1}, 0.01);
  prim::adamw_update(param, testing::random_tensor({5}, gen), m, v, lr, 4, AdamWOptions{}, &skip);
  EXPECT_EQ(param.to_vector<float>(), p0);
  EXPECT_EQ(m.to_vector<float>(), m0);
}

TEST(Optimizers, RejectMismatchedShapesDtypesAndSteps) {
  Tensor param = Tensor::zeros({4}), buffer = Tensor::zeros({4});
  const Tensor lr = Tensor::full({1}, 0.1);
  SgdOptions momentum;
  momentum.momentum = 0.9;
  EXPECT_THROW(prim::sgd_update(param, Tensor::zeros({5}), buffer, lr, {}, true), Error);
  EXPECT_THROW(prim::sgd_update(param, Tensor::zeros({4}, DType::f16), buffer, lr, {}, true),
               Error);
  Tensor short_buffer = Tensor::zeros({3});
  EXPECT_THROW(cpu_backend().sgd_update(param, Tensor::zeros({4}), short_buffer, lr, momentum, true,
                                        nullptr),
               Error);
  Tensor m = Tensor::zeros({4}), v = Tensor::zeros({4});
  EXPECT_THROW(prim::adamw_update(param, Tensor::zeros({4}), m, v, lr, 0, {}), Error);
  Tensor wrong_v = Tensor::zeros({2, 2});
  EXPECT_THROW(
      cpu_backend().adamw_update(param, Tensor::zeros({4}), m, wrong_v, lr, 1, {}, nullptr), Error);
  EXPECT_THROW(
      prim::sgd_update(param, Tensor::zeros({4}), buffer, Tensor::full({2}, 0.1), {}, true), Error);
}

}  // namespace
}  // namespace remix
