// GradientReducer (dist/gradient_buckets.h) with autograd's backward: buckets start while
// backward runs, as soon as their gradients are final, in the order backward finishes them, and
// finish() reduces the rest and waits. A recording communicator stands in for the other ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "dist/gradient_buckets.h"

namespace remix::dist {
namespace {

// Two ranks, the other one holding zero gradients: an average halves every value. It records
// "start <elements>" for each bucket started and "wait" for each wait_all().
class RecordingCommunicator final : public Communicator {
 public:
  std::vector<std::string> events;
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  int local_rank() const override { return 0; }
  void average(std::vector<Tensor>& tensors) override {
    for (Tensor& t : tensors) {
      float* v = static_cast<float*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i) v[i] *= 0.5f;
    }
  }
  void start_average(std::vector<Tensor> tensors) override {
    int64_t elements = 0;
    for (const Tensor& t : tensors) elements += t.numel();
    events.push_back("start " + std::to_string(elements));
    pending_.insert(pending_.end(), tensors.begin(), tensors.end());
  }
  void wait_all() override {
    events.push_back("wait");
    average(pending_);
    pending_.clear();
  }
  void sum(std::vector<double>&) override {}
  void broadcast(std::vector<uint8_t>&, int) override {}
  std::vector<std::vector<uint8_t>> gather(const std::vector<uint8_t>& b, int) override {
    return {b};
  }
  [[noreturn]] void abort(const std::string& message) override { throw Error(message); }

 private:
  std::vector<Tensor> pending_;
};

Tensor parameter(const std::vector<float>& values) {
  Tensor t = Tensor::from_vector(values);
  set_requires_grad(t);
  return t;
}

// Three "layers" w1 (2 values), w2 (3), w3 (4) applied in order, and a head (5) the loss does
// not use; buckets of at most 16 bytes hold one parameter each.
struct Net {
  Tensor w1 = parameter({1, 2}), w2 = parameter({3, 4, 5}), w3 = parameter({6, 7, 8, 9});
  Tensor unused_head = parameter({1, 1, 1, 1, 1});
  std::vector<Tensor> parameters() const { return {w1, w2, w3, unused_head}; }
  Tensor loss() const { return sum(w1 * 2.0) * sum(w2) * sum(w3 * w3); }
};

TEST(GradientReducer, StartsEachBucketDuringBackwardInTheOrderBackwardFinishesThem) {
  Net net;
  RecordingCommunicator ranks;
  GradientReducer reducer(ranks, net.parameters(), 16);
  ASSERT_EQ(reducer.buckets().size(), 4u);
  backward(net.loss(), Tensor(), false, [&](const AutogradMetaBase* leaf, const Tensor& g) {
    reducer.gradient_ready(leaf, g);
  });
  // All three used buckets started before backward returned; none waited for yet.
  EXPECT_EQ(ranks.events.size(), 3u);
  EXPECT_EQ(reducer.finish(), 3u);
  // w3 is squared last, so its gradient is finished first; the unused head's bucket has no
  // gradient to reduce; then one wait for all.
  EXPECT_EQ(ranks.events, (std::vector<std::string>{"start 4", "start 3", "start 2", "wait"}));
  EXPECT_FALSE(grad(net.unused_head).defined());
}

TEST(GradientReducer, LeavesTheMeanOfTheRanksInEveryGradient) {
  Net net, same;
  backward(same.loss());  // the gradients of one rank alone
  RecordingCommunicator ranks;
  GradientReducer reducer(ranks, net.parameters(), 16);
  backward(net.loss(), Tensor(), false, [&](const AutogradMetaBase* leaf, const Tensor& g) {
    reducer.gradient_ready(leaf, g);
  });
  reducer.finish();
  for (const auto& [reduced, alone] : {std::pair{net.w1, same.w1}, {net.w2, same.w2},
                                      {net.w3, same.w3}}) {
    std::vector<float> half = grad(alone).to_vector<float>();
    for (float& v : half) v *= 0.5f;
    EXPECT_EQ(grad(reduced).to_vector<float>(), half);
  }
}

TEST(GradientReducer, IsReadyForTheNextStepAfterFinish) {
  Net net;
  RecordingCommunicator ranks;
  GradientReducer reducer(ranks, net.parameters(), 16);
  for (int step = 0; step < 2; ++step) {
    for (Tensor* p : {&net.w1, &net.w2, &net.w3}) zero_grad(*p);
    backward(net.loss(), Tensor(), false, [&](const AutogradMetaBase* leaf, const Tensor& g) {
      reducer.gradient_ready(leaf, g);
    });
    EXPECT_EQ(reducer.finish(), 3u) << "step " << step;
  }
  EXPECT_EQ(ranks.events.size(), 8u);  // 3 starts and a wait per step
}

}  // namespace
}  // namespace remix::dist
