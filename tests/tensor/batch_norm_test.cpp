// The CPU batch-norm primitives against the backend's reference loops (tensor/cpu/reference.cpp,
// in double; checked against hand-worked values in reference_test.cpp): per-channel batch
// statistics over every leading axis, the PyTorch running-statistics update, the fused residual
// add and ReLU, and the standard backward formulas with the ReLU mask. Each runs with every
// instruction set's row kernels.
#include <gtest/gtest.h>

#include <vector>

#include "tensor/cpu/reference.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::random_tensor;

Tensor copy_of(const Tensor& t) {
  return Tensor::from_vector(t.to_vector<float>(), t.shape());
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

// What the reference loops (tensor/cpu/reference.cpp) compute from the same inputs.
struct Expected {
  Tensor y, mean, invstd, running_mean, running_var;
};

// training: batch statistics (and the running-statistics update, on copies); otherwise the
// running ones.
Expected reference_forward(const Inputs& in, bool training, bool relu, double momentum,
                           double eps) {
  Expected out{Tensor(in.x.shape()), Tensor({in.C}), Tensor({in.C}), copy_of(in.running_mean),
               copy_of(in.running_var)};
  const BatchNormForward args{
      .x = &in.x,
      .z = in.z.defined() ? &in.z : nullptr,
      .gamma = &in.gamma,
      .beta = &in.beta,
      .running_mean = &out.running_mean,
      .running_var = &out.running_var,
      .activation = relu ? BatchNormActivation::relu : BatchNormActivation::none,
      .momentum = momentum,
      .eps = eps,
      .y = &out.y,
      .save_mean = &out.mean,
      .save_invstd = &out.invstd};
  if (training)
    cpu::reference::batch_norm_forward_training(args);
  else
    cpu::reference::batch_norm_forward_inference(args);
  return out;
}

struct ExpectedGrads {
  Tensor dx, dz, dgamma, dbeta;
};

ExpectedGrads reference_backward(const Inputs& in, const Tensor& dy, const Tensor& y,
                                 const Tensor& mean, const Tensor& invstd, bool relu) {
  ExpectedGrads g{Tensor(in.x.shape()), Tensor(in.x.shape()), Tensor({in.C}), Tensor({in.C})};
  cpu::reference::batch_norm_backward(
      {.dy = &dy,
       .x = &in.x,
       .y = &y,
       .gamma = &in.gamma,
       .beta = &in.beta,
       .save_mean = &mean,
       .save_invstd = &invstd,
       .activation = relu ? BatchNormActivation::relu : BatchNormActivation::none,
       .dx = &g.dx,
       .dz = &g.dz,
       .dgamma = &g.dgamma,
       .dbeta = &g.dbeta});
  return g;
}

constexpr double kMomentum = 0.1, kEps = 1e-5;

void expect_training_forward_matches(const Shape& shape, bool residual, bool relu, uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "x " << to_string(shape) << " residual " << residual << " relu " << relu);
  Inputs in = make_inputs(shape, residual, seed);
  const Expected ref = reference_forward(in, true, relu, kMomentum, kEps);
  const BatchNormActivation act = relu ? BatchNormActivation::relu : BatchNormActivation::none;
  const prim::BatchNormOutputs out = prim::batch_norm_training(
      in.x, in.z, in.gamma, in.beta, in.running_mean, in.running_var, act, kMomentum, kEps);
  EXPECT_TRUE(all_close(out.y, ref.y, 1e-5, 1e-4));
  EXPECT_TRUE(all_close(out.save_mean, ref.mean, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(out.save_invstd, ref.invstd, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(in.running_mean, ref.running_mean, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(in.running_var, ref.running_var, 1e-6, 1e-5));
}

class BatchNorm : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(EveryKernel, BatchNorm, testing::kEveryInstructionSet,
                         testing::cpu_kernel_name);

TEST_P(BatchNorm, TrainingForwardMatchesTheReferenceLoops) {
  expect_training_forward_matches({2, 3, 4, 5}, false, false, 1);  // NHWC
  expect_training_forward_matches({7, 13}, false, false, 2);       // N x C (after a linear layer)
  expect_training_forward_matches({1, 5, 3, 3}, false, false, 3);  // batch 1: stats over H, W
}

TEST_P(BatchNorm, FusedAddAndReluForwardMatchesTheReferenceLoops) {
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
    const Expected ref = reference_forward(in, false, fused, kMomentum, kEps);
    EXPECT_TRUE(all_close(y, ref.y, 1e-5, 1e-5));
  }
}

struct BackwardRun {
  Tensor dy, y;
  prim::BatchNormGrads grads;
};

// Runs the forward pass (for y, save_mean, save_invstd) and compares the backward pass with
// the reference loops; returns what it ran for further checks.
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
  const ExpectedGrads ref = reference_backward(in, dy, fwd.y, fwd.save_mean, fwd.save_invstd, relu);
  EXPECT_TRUE(all_close(g.dx, ref.dx, 1e-5, 1e-4));
  EXPECT_TRUE(all_close(g.dgamma, ref.dgamma, 1e-5, 1e-4));
  EXPECT_TRUE(all_close(g.dbeta, ref.dbeta, 1e-5, 1e-4));
  if (residual) EXPECT_TRUE(all_close(g.dz, ref.dz, 0, 0));
  return {dy, fwd.y, g};
}

TEST_P(BatchNorm, BackwardMatchesTheReferenceLoops) {
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
  const Expected ref = reference_forward(in, true, false, kMomentum, kEps);
  const prim::BatchNormOutputs out =
      prim::batch_norm_training(in.x, in.z, in.gamma, in.beta, in.running_mean, in.running_var,
                                BatchNormActivation::none, kMomentum, kEps);
  EXPECT_TRUE(all_close(out.save_invstd, ref.invstd, 0, 1e-4));
  EXPECT_TRUE(all_close(out.y, ref.y, 1e-3, 1e-3));
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
