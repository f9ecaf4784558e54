// The tape and the engine: accumulation, graph order, freeing saved tensors, the error cases of
// backward, and the gradient checker itself (it must catch a wrong sign, factor and index).
#include <gtest/gtest.h>

#include <string>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;

Tensor leaf(const std::vector<float>& values) {
  Tensor t = Tensor::from_vector(values);
  set_requires_grad(t);
  return t;
}

// The message of the remix::Error that `f` throws ("" if it throws none).
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// An identity op whose backward counts its calls and keeps the gradient it received.
struct CountingBackward : Node {
  int* calls = nullptr;
  std::vector<float>* received = nullptr;
  std::string name() const override { return "CountingBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    ++*calls;
    *received = dy.to_vector<float>();
    return {dy};
  }
};

Tensor counted_identity(const Tensor& x, int* calls, std::vector<float>* received) {
  Tensor y = x.clone();
  if (auto node = make_node<CountingBackward>({&x})) {
    node->calls = calls, node->received = received;
    set_history(y, node);
  }
  return y;
}

// An identity op that saves its input, to observe release_saved.
struct SavingBackward : Node {
  Tensor saved;
  std::string name() const override { return "SavingBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {dy}; }
  void release_saved() override { saved = Tensor(); }
};

TEST(Engine, AccumulatesGradientsOfALeafAcrossTwoBackwardCalls) {
  Tensor x = leaf({1, 2, 3});
  backward(sum(mul(x, 2.0)));
  backward(sum(mul(x, 3.0)));
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({5, 5, 5})));
}

TEST(Engine, SumsTheGradientsOfATensorUsedTwice) {
  Tensor x = leaf({-1, 0.5, 2});
  backward(sum(add(mul(x, x), x)));  // d(x^2 + x) = 2x + 1
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({-1, 2, 5})));
}

TEST(Engine, RunsADiamondNodeOnceAfterAllItsConsumers) {
  Tensor x = leaf({1, -2});
  int calls = 0;
  std::vector<float> received;
  const Tensor c = counted_identity(x, &calls, &received);
  // Two paths of different lengths from c to the loss: 2c and (3c) * 1.
  const Tensor y = add(mul(c, 2.0), mul(mul(c, 3.0), 1.0));
  backward(sum(y));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(received, (std::vector<float>{5, 5}));  // both paths had arrived
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({5, 5})));
}

TEST(Engine, FreesSavedTensorsAndRefusesASecondBackwardWithoutRetainGraph) {
  Tensor x = leaf({0.5, 1.5});
  Tensor y = x.clone();
  auto node = make_node<SavingBackward>({&x});
  node->saved = x;
  set_history(y, node);
  const Tensor loss = sum(exp(y));
  backward(loss);
  EXPECT_FALSE(node->saved.defined());
  EXPECT_TRUE(node->released);
  const std::string message = error_message([&] { backward(loss); });
  EXPECT_NE(message.find("retain_graph"), std::string::npos) << message;
}

TEST(Engine, AllowsASecondBackwardWithRetainGraph) {
  Tensor x = leaf({0.5, 1.5});
  const Tensor loss = sum(exp(x));
  backward(loss, Tensor(), /*retain_graph=*/true);
  backward(loss);
  EXPECT_TRUE(all_close(grad(x), mul(exp(detach(x)), 2.0), 1e-6, 1e-6));
}

TEST(Engine, RecordsNothingUnderNoGradGuard) {
  Tensor x = leaf({1, 2});
  Tensor y;
  {
    NoGradGuard no_grad;
    y = mul(exp(x), x);
  }
  EXPECT_FALSE(requires_grad(y));
  EXPECT_EQ(grad_fn(y), nullptr);
  EXPECT_TRUE(requires_grad(mul(x, x)));  // recording resumes after the scope
}

TEST(Engine, RefusesToImplyTheGradientOfANonScalar) {
  Tensor x = leaf({1, 2});
  const std::string message = error_message([&] { backward(mul(x, 2.0)); });
  EXPECT_NE(message.find("scalar"), std::string::npos) << message;
}

TEST(Engine, RefusesABackwardFromATensorThatDoesNotRequireAGradient) {
  const Tensor x = Tensor::from_vector<float>({1, 2});
  const std::string message = error_message([&] { backward(sum(x)); });
  EXPECT_NE(message.find("does not require a gradient"), std::string::npos) << message;
}

TEST(Engine, RefusesToMarkANonLeafAsRequiringAGradient) {
  Tensor x = leaf({1, 2});
  Tensor y = mul(x, 2.0);
  EXPECT_THROW(set_requires_grad(y), Error);
}

TEST(Engine, ZeroGradForgetsTheAccumulatedGradient) {
  Tensor x = leaf({1, 2});
  backward(sum(x));
  ASSERT_TRUE(grad(x).defined());
  zero_grad(x);
  EXPECT_FALSE(grad(x).defined());
  backward(sum(mul(x, 4.0)));
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({4, 4})));
}

TEST(Engine, DetachCutsTheGraph) {
  Tensor x = leaf({1, 3});
  const Tensor constant = detach(mul(x, 2.0));
  EXPECT_FALSE(requires_grad(constant));
  backward(sum(mul(constant, x)));  // d(c * x) with c constant = c = 2x, not 4x
  EXPECT_TRUE(all_close(grad(x), Tensor::from_vector<float>({2, 6})));
}

// ------------------------------------------------------------- the gradient checker itself

// y = 3 x on the host, with a backward that is correct or broken in one chosen way.
enum class Fault { none, wrong_sign, wrong_factor, wrong_index };

struct TripleBackward : Node {
  Fault fault = Fault::none;
  std::string name() const override { return "TripleBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    const std::vector<float> d = dy.to_vector<float>();
    std::vector<float> dx(d.size());
    for (size_t i = 0; i < d.size(); ++i) {
      switch (fault) {
        case Fault::none: dx[i] = 3 * d[i]; break;
        case Fault::wrong_sign: dx[i] = -3 * d[i]; break;
        case Fault::wrong_factor: dx[i] = 2 * d[i]; break;
        case Fault::wrong_index: dx[i] = 3 * d[(i + 1) % d.size()]; break;
      }
    }
    return {Tensor::from_vector(dx, dy.shape())};
  }
};

Tensor triple(const Tensor& x, Fault fault) {
  std::vector<float> v = x.to_vector<float>();
  for (float& e : v) e *= 3;
  Tensor y = Tensor::from_vector(v, x.shape());
  if (auto node = make_node<TripleBackward>({&x})) {
    node->fault = fault;
    set_history(y, node);
  }
  return y;
}

::testing::AssertionResult triple_gradient_matches(Fault fault) {
  Generator gen(7);
  return gradient_matches([fault](const std::vector<Tensor>& in) { return triple(in[0], fault); },
                          {testing::random_tensor({2, 3}, gen)});
}

TEST(Gradcheck, AcceptsACorrectGradient) { EXPECT_TRUE(triple_gradient_matches(Fault::none)); }

TEST(Gradcheck, CatchesAWrongSign) { EXPECT_FALSE(triple_gradient_matches(Fault::wrong_sign)); }

TEST(Gradcheck, CatchesAWrongFactor) {
  EXPECT_FALSE(triple_gradient_matches(Fault::wrong_factor));
}

TEST(Gradcheck, CatchesAWrongIndex) { EXPECT_FALSE(triple_gradient_matches(Fault::wrong_index)); }

TEST(Gradcheck, ReportsTheFirstMismatch) {
  Generator gen(7);
  const GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& in) { return triple(in[0], Fault::wrong_sign); },
                {testing::random_tensor({4}, gen)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("input 0 element"), std::string::npos) << r.message;
  EXPECT_GT(r.max_abs_error, 1.0);
}

}  // namespace
}  // namespace remix

namespace remix {
namespace {

// w1 is read twice (by the first layer and by a penalty at the loss), w2 once and late:
//   h = x * w1;  y = h * w2;  loss = sum(y) + sum(w1 * w1);   unused is never read.
// The engine reports w2 first (the last layer's gradient is final once y's node ran), w1 only
// after both of its readers ran, each with its final gradient, and `unused` never.
TEST(Backward, ReportsEachLeafGradientOnceWhenNoNodeLeftCanAddToIt) {
  const Tensor x = Tensor::from_vector<float>({1, 2});
  Tensor w1 = leaf({3, 4}), w2 = leaf({5, 6}), unused = leaf({7, 8});
  const Tensor loss = sum(x * w1 * w2) + sum(w1 * w1);
  std::vector<std::pair<const AutogradMetaBase*, std::vector<float>>> reported;
  backward(loss, Tensor(), false, [&](const AutogradMetaBase* leaf, const Tensor& g) {
    reported.push_back({leaf, g.to_vector<float>()});
  });
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].first, w2.autograd_meta().get());
  EXPECT_EQ(reported[1].first, w1.autograd_meta().get());
  EXPECT_EQ(reported[0].second, grad(w2).to_vector<float>());
  EXPECT_EQ(reported[1].second, grad(w1).to_vector<float>());
  EXPECT_EQ(reported[1].second, (std::vector<float>{1 * 5 + 2 * 3, 2 * 6 + 2 * 4}));
  EXPECT_FALSE(grad(unused).defined());
}

}  // namespace
}  // namespace remix
