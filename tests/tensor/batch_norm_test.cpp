// The CPU batch-norm primitives against a naive double-precision reference: per-channel batch
// statistics over every leading axis, the PyTorch running-statistics update, the fused residual
// add and ReLU, and the standard backward formulas with the ReLU mask. Each runs with every
// instruction set's row kernels and with the backend's reference loops.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::random_tensor;

std::vector<double> values(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  return {v.begin(), v.end()};
}

Tensor to_tensor(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape);
}

// The inputs of one batch-norm call, with C the last axis of x.
struct Inputs {
  Tensor x, z, gamma, beta, running_mean, running_var;
  int64_t C = 0, rows = 0;
};

Inputs make_inputs(const Shape& shape, bool residual, uint64_t seed) {
  Generator gen(seed);
  Inputs in;
  in.C = shape.back();
  in.rows = numel(shape) / in.C;
  in.x = random_tensor(shape, gen, 1.0, 4.0);  // mean far from 0, as after a ReLU
  if (residual) in.z = random_tensor(shape, gen);
  in.gamma = random_tensor({in.C}, gen, 0.5, 1.5);
  in.beta = random_tensor({in.C}, gen, -0.5, 0.5);
  in.running_mean = random_tensor({in.C}, gen);
  in.running_var = random_tensor({in.C}, gen, 0.5, 2.0);
  return in;
}

struct NaiveForward {
  std::vector<double> y, mean, invstd, running_mean, running_var;
};

// training: batch statistics (and the running-statistics update); otherwise the running ones.
NaiveForward naive_forward(const Inputs& in, bool training, bool relu, double momentum,
                           double eps) {
  const std::vector<double> x = values(in.x), gamma = values(in.gamma), beta = values(in.beta);
  const std::vector<double> z = in.z.defined() ? values(in.z) : std::vector<double>(x.size(), 0);
  NaiveForward out;
  out.running_mean = values(in.running_mean);
  out.running_var = values(in.running_var);
  out.mean.assign(in.C, 0.0);
  out.invstd.assign(in.C, 0.0);
  for (int64_t c = 0; c < in.C; ++c) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < in.rows; ++i) mean += x[i * in.C + c] / in.rows;
    for (int64_t i = 0; i < in.rows; ++i) var += std::pow(x[i * in.C + c] - mean, 2) / in.rows;
    if (training) {
      out.running_mean[c] = (1 - momentum) * out.running_mean[c] + momentum * mean;
      out.running_var[c] =
          (1 - momentum) * out.running_var[c] + momentum * var * in.rows / (in.rows - 1);
    } else {
      mean = out.running_mean[c];
      var = out.running_var[c];
    }
    out.mean[c] = mean;
    out.invstd[c] = 1 / std::sqrt(var + eps);
  }
  out.y.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) % in.C;
    const double v = gamma[c] * (x[i] - out.mean[c]) * out.invstd[c] + beta[c] + z[i];
    out.y[i] = relu && v < 0 ? 0.0 : v;
  }
  return out;
}

struct NaiveBackward {
  std::vector<double> dx, dz, dgamma, dbeta;
};

NaiveBackward naive_backward(const Inputs& in, const std::vector<double>& dy,
                             const std::vector<double>& y, const std::vector<double>& mean,
                             const std::vector<double>& invstd, bool relu) {
  const std::vector<double> x = values(in.x), gamma = values(in.gamma);
  const int64_t C = in.C;
  const double n = static_cast<double>(in.rows);
  NaiveBackward g{std::vector<double>(x.size()), std::vector<double>(x.size()),
                  std::vector<double>(C, 0.0), std::vector<double>(C, 0.0)};
  for (size_t i = 0; i < x.size(); ++i) g.dz[i] = relu && y[i] <= 0 ? 0.0 : dy[i];  // dy_m
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) % C;
    g.dbeta[c] += g.dz[i];
    g.dgamma[c] += g.dz[i] * (x[i] - mean[c]) * invstd[c];
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) % C;
    const double xhat = (x[i] - mean[c]) * invstd[c];
    g.dx[i] = gamma[c] * invstd[c] / n * (n * g.dz[i] - g.dbeta[c] - xhat * g.dgamma[c]);
  }
  return g;
}

constexpr double kMomentum = 0.1, kEps = 1e-5;

void expect_training_forward_matches(const Shape& shape, bool residual, bool relu, uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "x " << to_string(shape) << " residual " << residual << " relu " << relu);
  Inputs in = make_inputs(shape, residual, seed);
  const NaiveForward ref = naive_forward(in, true, relu, kMomentum, kEps);
  const BatchNormActivation act = relu ? BatchNormActivation::relu : BatchNormActivation::none;
  const prim::BatchNormOutputs out = prim::batch_norm_training(
      in.x, in.z, in.gamma, in.beta, in.running_mean, in.running_var, act, kMomentum, kEps);
  EXPECT_TRUE(all_close(out.y, to_tensor(ref.y, shape), 1e-5, 1e-4));
  EXPECT_TRUE(all_close(out.save_mean, to_tensor(ref.mean, {in.C}), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(out.save_invstd, to_tensor(ref.invstd, {in.C}), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(in.running_mean, to_tensor(ref.running_mean, {in.C}), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(in.running_var, to_tensor(ref.running_var, {in.C}), 1e-6, 1e-5));
}

class BatchNorm : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(EveryKernel, BatchNorm, testing::kEveryCpuKernel,
                         testing::cpu_kernel_name);

TEST_P(BatchNorm, TrainingForwardMatchesANaiveReference) {
  expect_training_forward_matches({2, 3, 4, 5}, false, false, 1);  // NHWC
  expect_training_forward_matches({7, 13}, false, false, 2);       // N x C (after a linear layer)
  expect_training_forward_matches({1, 5, 3, 3}, false, false, 3);  // batch 1: stats over H, W
}

TEST_P(BatchNorm, FusedAddAndReluForwardMatchesANaiveReference) {
  expect_training_forward_matches({2, 3, 5, 13}, true, true, 4);
  expect_training_forward_matches({3, 4, 4, 5}, false, true, 5);  // ReLU alone
  expect_training_forward_matches({2, 2, 3, 3}, true, false, 6);  // residual alone
}

TEST_P(BatchNorm, InferenceUsesTheRunningStatistics) {
  for (bool fused : {false, true}) {
    const Inputs in = make_inputs({2, 3, 3, 5}, fused, 7);
    const BatchNormActivation act = fused ? BatchNormActivation::relu : BatchNormActivation::none;
    const Tensor y = prim::batch_norm_inference(in.x, in.z, in.gamma, in.beta, in.running_mean,
                                                in.running_var, act, kEps);
    const NaiveForward ref = naive_forward(in, false, fused, kMomentum, kEps);
    EXPECT_TRUE(all_close(y, to_tensor(ref.y, in.x.shape()), 1e-5, 1e-5));
  }
}

struct BackwardRun {
  Tensor dy, y;
  prim::BatchNormGrads grads;
};

// Runs the forward pass (for y, save_mean, save_invstd) and compares the backward pass with
// the naive formulas; returns what it ran for further checks.
BackwardRun expect_backward_matches(const Shape& shape, bool residual, bool relu, uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "x " << to_string(shape) << " residual " << residual << " relu " << relu);
  Inputs in = make_inputs(shape, residual, seed);
  const BatchNormActivation act = relu ? BatchNormActivation::relu : BatchNormActivation::none;
  const prim::BatchNormOutputs fwd = prim::batch_norm_training(
      in.x, in.z, in.gamma, in.beta, in.running_mean, in.running_var, act, kMomentum, kEps);
  Generator gen(seed + 1000);
  const Tensor dy = random_tensor(shape, gen);
  const prim::BatchNormGrads g = prim::batch_norm_backward(
      dy, in.x, fwd.y, in.gamma, in.beta, fwd.save_mean, fwd.save_invstd, act, residual, kEps);
  const NaiveBackward ref = naive_backward(in, values(dy), values(fwd.y), values(fwd.save_mean),
                                           values(fwd.save_invstd), relu);
  EXPECT_TRUE(all_close(g.dx, to_tensor(ref.dx, shape), 1e-5, 1e-4));
  EXPECT_TRUE(all_close(g.dgamma, to_tensor(ref.dgamma, {in.C}), 1e-5, 1e-4));
  EXPECT_TRUE(all_close(g.dbeta, to_tensor(ref.dbeta, {in.C}), 1e-5, 1e-4));
  if (residual) EXPECT_TRUE(all_close(g.dz, to_tensor(ref.dz, shape), 0, 0));
  return {dy, fwd.y, g};
}

TEST_P(BatchNorm, BackwardMatchesTheNaiveFormulas) {
  expect_backward_matches({2, 3, 4, 5}, false, false, 11);
  expect_backward_matches({9, 13}, false, false, 12);
  expect_backward_matches({1, 4, 3, 3}, false, false, 13);
}

TEST_P(BatchNorm, FusedBackwardMasksByTheReluAndReturnsDz) {
  const BackwardRun run = expect_backward_matches({2, 3, 5, 13}, true, true, 14);
  // The residual's gradient is dy where the output was positive and 0 where the ReLU cut it.
  const std::vector<float> dy = run.dy.to_vector<float>(), y = run.y.to_vector<float>();
  const std::vector<float> dz = run.grads.dz.to_vector<float>();
  int cut = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_EQ(dz[i], y[i] > 0 ? dy[i] : 0.0f) << "at " << i;
    cut += y[i] <= 0;
  }
  EXPECT_GT(cut, 0) << "the test data should exercise the ReLU mask";
  EXPECT_LT(cut, static_cast<int>(y.size()));
  expect_backward_matches({3, 2, 2, 5}, false, true, 15);  // ReLU without a residual
}

// Whole vectors of channels (16, 64), vectors plus a ragged rest (19, 35), and enough rows for
// several blocks and both threads.
TEST_P(BatchNorm, MatchesOnVectorWidthsRaggedChannelsAndLargeBatches) {
  expect_training_forward_matches({4, 8, 8, 16}, true, true, 8);
  expect_training_forward_matches({3, 5, 7, 19}, false, true, 9);
  expect_training_forward_matches({64, 4, 4, 64}, true, true, 10);
  expect_training_forward_matches({2, 33, 35, 35}, false, false, 17);
  expect_backward_matches({4, 8, 8, 16}, true, true, 18);
  expect_backward_matches({3, 5, 7, 19}, false, true, 19);
  expect_backward_matches({64, 4, 4, 64}, true, true, 20);
  expect_backward_matches({2, 33, 35, 35}, false, false, 21);
}

// A mean a thousand times the spread: the variance must not cancel away (the moments are taken
// about the first row, in f32 blocks summed in double).
TEST_P(BatchNorm, VarianceSurvivesALargeMean) {
  Inputs in = make_inputs({16, 16, 16, 16}, false, 22);
  const std::vector<float> noise = in.x.to_vector<float>();
  std::vector<float> shifted(noise.size());
  for (size_t i = 0; i < noise.size(); ++i) shifted[i] = 1000.0f + (noise[i] - 2.5f) * 0.5f;
  in.x = Tensor::from_vector(shifted, in.x.shape());
  const NaiveForward ref = naive_forward(in, true, false, kMomentum, kEps);
  const prim::BatchNormOutputs out =
      prim::batch_norm_training(in.x, in.z, in.gamma, in.beta, in.running_mean, in.running_var,
                                BatchNormActivation::none, kMomentum, kEps);
  EXPECT_TRUE(all_close(out.save_invstd, to_tensor(ref.invstd, {in.C}), 0, 1e-4));
  EXPECT_TRUE(all_close(out.y, to_tensor(ref.y, in.x.shape()), 1e-3, 1e-3));
}

TEST_P(BatchNorm, RejectsSixteenBitTensorsOnTheCpu) {
  Inputs in = make_inputs({2, 2, 2, 3}, false, 16);
  const Tensor x16 = Tensor({2, 2, 2, 3}, DType::bf16);
  EXPECT_THROW(
      prim::batch_norm_training(x16, Tensor(), in.gamma, in.beta, in.running_mean, in.running_var,
                                BatchNormActivation::none, kMomentum, kEps),
      Error);
}

}  // namespace
}  // namespace remix
