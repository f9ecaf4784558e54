// The training loss of a mixed batch (augment/loss.h) on a tiny classifier: its values against a
// hand-assembled computation, and its gradient through ROI-Align against central differences.
#include "augment/loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "augment/box.h"
#include "autograd/ops.h"
#include "nn/loss.h"
#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

constexpr int64_t kN = 2, kSide = 8, kC = 2, kD = 3, kK = 4;

// One 3x3 stride-2 convolution: 8 x 8 x 2 images -> 4 x 4 x 3 features, then the heads.
class TinyNet : public nn::Classifier {
 public:
  explicit TinyNet(Generator& gen) : Classifier("TinyNet") {
    conv_ = register_module(
        "conv", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{kC, kD, 3, 2, 1, false}, gen));
    add_heads(kD, kK, gen);
  }
  Tensor features(const Tensor& x) override { return (*conv_)(x); }

 private:
  std::shared_ptr<nn::Conv2d> conv_;
};

// Random rows that sum to 1: soft targets or teacher probabilities.
Tensor random_distribution(Generator& gen) {
  return prim::unary(
      UnaryOp::exp, prim::log_softmax_forward(remix::testing::random_tensor({kN, kK}, gen, -2, 2)));
}

// mean_n( -sum_k t[n,k] log_softmax(z[n])_k ) in double.
double soft_cross_entropy(const std::vector<double>& z, const Tensor& targets) {
  const std::vector<float> t = targets.to_vector<float>();
  double total = 0;
  for (int64_t n = 0; n < kN; ++n) {
    double max = z[n * kK], sum = 0;
    for (int64_t k = 0; k < kK; ++k) max = std::max(max, z[n * kK + k]);
    for (int64_t k = 0; k < kK; ++k) sum += std::exp(z[n * kK + k] - max);
    for (int64_t k = 0; k < kK; ++k) total -= t[n * kK + k] * (z[n * kK + k] - max - std::log(sum));
  }
  return total / kN;
}

// x @ weight^T + bias for N x D rows x, in double.
std::vector<double> linear(const std::vector<double>& x, nn::Linear& layer) {
  const std::vector<float> w = layer.weight().to_vector<float>(),
                           b = layer.bias().to_vector<float>();
  std::vector<double> y;
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t k = 0; k < kK; ++k) {
      double v = b[k];
      for (int64_t d = 0; d < kD; ++d) v += static_cast<double>(w[k * kD + d]) * x[n * kD + d];
      y.push_back(v);
    }
  return y;
}

// A batch with a consistency term over `box`, with random images, targets and teacher.
MixedBatch consistency_batch(Generator& gen, const Box& box, double weight) {
  MixedBatch batch;
  batch.images = remix::testing::random_tensor({kN, kSide, kSide, kC}, gen);
  batch.targets = random_distribution(gen);
  batch.consistency = true;
  batch.roi_boxes = roi_boxes(box, kN, Device::cpu());
  batch.teacher_probs = random_distribution(gen);
  batch.consistency_weight = weight;
  return batch;
}

TEST(MixedBatchLoss, IsTheMainHeadsSoftCrossEntropyWithoutAConsistencyTerm) {
  Generator gen(1);
  TinyNet model(gen);
  MixedBatch batch = consistency_batch(gen, Box{}, 0.0);
  batch.consistency = false;
  const TrainingLoss loss = mixed_batch_loss(model, batch);
  EXPECT_TRUE(loss.total.same_storage(loss.main));
  EXPECT_FALSE(loss.consistency.defined());
  const Tensor logits = model.forward(batch.images);
  EXPECT_TRUE(testing::identical(loss.logits, logits));
  const std::vector<float> z = logits.to_vector<float>();
  EXPECT_NEAR(loss.main.item(), soft_cross_entropy({z.begin(), z.end()}, batch.targets), 1e-5);
}

TEST(MixedBatchLoss, AddsTheWeightedRoiHeadCrossEntropyAgainstTheTeacher) {
  for (bool shared : {false, true}) {
    Generator gen(2);
    TinyNet model(gen);
    // Box (2, 2, 6, 6) in pixels is (1, 1, 3, 3) on the 4 x 4 features; with the half-pixel
    // offset, ROI-Align's 2 x 2 samples fall on the centres of cells 1..2 x 1..2: their mean.
    MixedBatch batch = consistency_batch(gen, Box{2, 2, 6, 6}, 0.3);
    batch.shared_roi_head = shared;
    const TrainingLoss loss = mixed_batch_loss(model, batch);

    const testing::Pixels features(model.features(batch.images));
    std::vector<double> pooled;
    for (int64_t n = 0; n < kN; ++n)
      for (int64_t d = 0; d < kD; ++d)
        pooled.push_back((features.at(n, 1, 1, d) + features.at(n, 1, 2, d) +
                          features.at(n, 2, 1, d) + features.at(n, 2, 2, d)) /
                         4.0);
    const std::vector<double> roi = linear(pooled, shared ? model.fc() : model.fc_roi());
    const double consistency = soft_cross_entropy(roi, batch.teacher_probs);
    const std::vector<float> z = loss.logits.to_vector<float>();
    const double main = soft_cross_entropy({z.begin(), z.end()}, batch.targets);
    EXPECT_NEAR(loss.consistency.item(), consistency, 1e-5) << "shared " << shared;
    EXPECT_NEAR(loss.main.item(), main, 1e-5);
    EXPECT_NEAR(loss.total.item(), main + 0.3 * consistency, 1e-5);
  }
}

TEST(MixedBatchLoss, ConsistencyGradientThroughRoiAlignMatchesCentralDifferences) {
  Generator gen(3);
  TinyNet model(gen);
  // A box off the pixel grid of the features, so the bilinear weights are fractional.
  const MixedBatch batch = consistency_batch(gen, Box{1, 3, 7, 6}, 0.5);
  const Tensor features = remix::testing::random_tensor({kN, 4, 4, kD}, gen);
  const auto consistency = [&](const std::vector<Tensor>& in) {
    return nn::soft_cross_entropy(model.roi_logits(in[0], batch.roi_boxes, kSide),
                                  batch.teacher_probs);
  };
  EXPECT_TRUE(remix::testing::gradient_matches(consistency, {features}));
}

TEST(MixedBatchLoss, TotalGradientWithRespectToTheImagesMatchesCentralDifferences) {
  Generator gen(4);
  TinyNet model(gen);
  const MixedBatch batch = consistency_batch(gen, Box{1, 3, 7, 6}, 0.5);
  const auto total = [&](const std::vector<Tensor>& in) {
    MixedBatch b = batch;
    b.images = in[0];
    return mixed_batch_loss(model, b).total;
  };
  EXPECT_TRUE(remix::testing::gradient_matches(total, {batch.images}));
}

}  // namespace
}  // namespace remix::augment
