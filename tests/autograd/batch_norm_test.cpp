// Gradients of batch_norm for x, gamma, beta and the residual: training mode (batch statistics)
// and inference mode (running statistics), each without and with the fused ReLU.
//
// With the ReLU, the inputs are built so that no pre-activation comes near 0 (the kink): each
// channel holds evenly spaced values symmetric about their mean, none at it, so |xhat| >= 0.2;
// gamma >= 0.5 and small beta and residual keep every pre-activation at least 0.05 from 0,
// further than a perturbation of eps moves it.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::gradient_matches;
using testing::random_tensor;

const Shape kShape = {2, 2, 2, 3};  // N x H x W x C: 8 values per channel

// Per channel c: a random order of the 8 values -1, -5/7, ..., 5/7, 1, scaled by 1 + c/2 and
// shifted by c / 3 (batch norm removes both).
Tensor spread_input(Generator& gen) {
  const int64_t channels = kShape.back(), per_channel = numel(kShape) / channels;
  std::vector<float> v(static_cast<size_t>(numel(kShape)));
  for (int64_t c = 0; c < channels; ++c) {
    const std::vector<int64_t> order = gen.permutation(per_channel);
    for (int64_t i = 0; i < per_channel; ++i) {
      const float spaced = -1.0f + 2.0f * static_cast<float>(order[i]) / (per_channel - 1);
      v[i * channels + c] = spaced * (1.0f + c / 2.0f) + c / 3.0f;
    }
  }
  return Tensor::from_vector(v, kShape);
}

struct Inputs {
  Tensor x, gamma, beta, residual;
};

Inputs make_inputs(uint64_t seed) {
  Generator gen(seed);
  return {spread_input(gen), random_tensor({3}, gen, 0.5, 1.5),
          random_tensor({3}, gen, -0.03, 0.03), random_tensor(kShape, gen, -0.03, 0.03)};
}

Tensor training_batch_norm(const std::vector<Tensor>& in, BatchNormActivation act) {
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::ones({3});
  return batch_norm(in[0], in[1], in[2], running_mean, running_var, /*training=*/true, 0.1, 1e-5,
                    act, in.size() > 3 ? in[3] : Tensor());
}

// On the fast kernels and on the reference loops of tensor/cpu/reference*.cpp.
class BatchNormTrainingGradient : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, BatchNormTrainingGradient,
                         testing::kFastAndReferenceKernels, testing::cpu_kernel_name);

TEST_P(BatchNormTrainingGradient, MatchesNumericalWithoutActivation) {
  const Inputs i = make_inputs(1);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) {
        return training_batch_norm(in, BatchNormActivation::none);
      },
      {i.x, i.gamma, i.beta}, {.eps = 1e-3}));
}

TEST_P(BatchNormTrainingGradient, MatchesNumericalWithRelu) {
  const Inputs i = make_inputs(2);
  EXPECT_TRUE(gradient_matches(
      [](const std::vector<Tensor>& in) {
        return training_batch_norm(in, BatchNormActivation::relu);
      },
      {i.x, i.gamma, i.beta}, {.eps = 1e-3}));
}

TEST_P(BatchNormTrainingGradient, MatchesNumericalWithResidualAndRelu) {
  const Inputs i = make_inputs(3);
  for (BatchNormActivation act : {BatchNormActivation::none, BatchNormActivation::relu}) {
    EXPECT_TRUE(gradient_matches(
        [act](const std::vector<Tensor>& in) { return training_batch_norm(in, act); },
        {i.x, i.gamma, i.beta, i.residual}, {.eps = 1e-3}))
        << (act == BatchNormActivation::relu ? "relu" : "none");
  }
}

TEST(BatchNorm, UpdatesTheRunningStatisticsOnlyInTraining) {
  const Inputs i = make_inputs(4);
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::ones({3});
  batch_norm(i.x, i.gamma, i.beta, running_mean, running_var, /*training=*/false);
  EXPECT_TRUE(all_close(running_mean, Tensor::zeros({3})));
  batch_norm(i.x, i.gamma, i.beta, running_mean, running_var, /*training=*/true, 0.5);
  // The batch mean of channel c is c / 3; momentum 0.5 moves halfway there.
  EXPECT_TRUE(
      all_close(running_mean, Tensor::from_vector<float>({0, 1 / 6.f, 1 / 3.f}), 1e-5, 1e-4));
}

// Inference: running mean 0.1 and variance 0.8 (invstd ~ 1.118). Inputs 0.1 +- [0.3, 1] keep
// every pre-activation at least 0.1 from 0.
Tensor inference_input(Generator& gen) {
  std::vector<float> v = random_tensor(kShape, gen, 0.3, 1.0).to_vector<float>();
  for (float& e : v) e = 0.1f + (gen.uniform() < 0.5 ? -e : e);
  return Tensor::from_vector(v, kShape);
}

Tensor inference_batch_norm(const std::vector<Tensor>& in, BatchNormActivation act) {
  Tensor running_mean = Tensor::full({3}, 0.1), running_var = Tensor::full({3}, 0.8);
  return batch_norm(in[0], in[1], in[2], running_mean, running_var, /*training=*/false, 0.1, 1e-5,
                    act, in.size() > 3 ? in[3] : Tensor());
}

class BatchNormInferenceGradient : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, BatchNormInferenceGradient,
                         testing::kFastAndReferenceKernels, testing::cpu_kernel_name);

TEST_P(BatchNormInferenceGradient, MatchesNumericalWithAndWithoutReluAndResidual) {
  const Inputs i = make_inputs(5);
  Generator gen(6);
  const Tensor x = inference_input(gen);
  for (BatchNormActivation act : {BatchNormActivation::none, BatchNormActivation::relu}) {
    for (bool with_residual : {false, true}) {
      std::vector<Tensor> inputs = {x, i.gamma, i.beta};
      if (with_residual) inputs.push_back(i.residual);
      EXPECT_TRUE(gradient_matches(
          [act](const std::vector<Tensor>& in) { return inference_batch_norm(in, act); }, inputs,
          {.eps = 1e-3}))
          << (act == BatchNormActivation::relu ? "relu" : "none") << " residual " << with_residual;
    }
  }
}

TEST(BatchNormInference, NormalisesWithTheRunningStatistics) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  const Tensor gamma = Tensor::from_vector<float>({2, 1}),
               beta = Tensor::from_vector<float>({0, 1});
  Tensor running_mean = Tensor::from_vector<float>({1, 0});
  Tensor running_var = Tensor::from_vector<float>({4, 1});
  const Tensor y = batch_norm(x, gamma, beta, running_mean, running_var, false, 0.1, 0.0);
  // y = gamma * (x - mean) / sqrt(var) + beta
  EXPECT_TRUE(all_close(y, Tensor::from_vector<float>({0, 3, 2, 5}, {2, 2})));
}

}  // namespace
}  // namespace remix
