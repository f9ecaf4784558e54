// The fused CUDA optimizer steps against the CPU backend: SGD (plain, momentum with dampening and
// weight decay, Nesterov) and AdamW over several steps with a learning rate that changes in device
// memory; a set skip flag leaves everything untouched; and a step captured in a CUDA graph follows
// the learning rate written after the capture.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "cuda/runtime.h"
#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::matches_cpu;
using testing::random_tensor;
using testing::same_bytes;
using testing::to_gpu;

// Parameter, gradient and state of one tensor on one device.
struct State {
  Tensor param, grad, buffer, exp_avg, exp_avg_sq, lr, step;
};

State make_state(const Tensor& param, const Tensor& grad, Device device) {
  const Shape& s = param.shape();
  return {param.to(device).clone(),
          grad.to(device),
          Tensor::zeros(s, DType::f32, device),
          Tensor::zeros(s, DType::f32, device),
          Tensor::zeros(s, DType::f32, device),
          Tensor::full({1}, 0.1, DType::f32, device),
          Tensor::zeros({1}, DType::f32, device)};
}

const double kLearningRates[] = {0.1, 0.05, 0.2};

TEST(CudaOptimizer, SgdStepsMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(60);
  const SgdOptions options[] = {
      {0.0, 0.0, 0.0, false}, {0.9, 0.1, 5e-4, false}, {0.9, 0.0, 1e-4, true}};
  for (const SgdOptions& opt : options) {
    SCOPED_TRACE(::testing::Message()
                 << "momentum " << opt.momentum << " nesterov " << opt.nesterov);
    const Tensor param = random_tensor({3, 5, 13}, gen), grad = random_tensor({3, 5, 13}, gen);
    State cpu = make_state(param, grad, Device::cpu());
    State gpu = make_state(param, grad, Device::cuda());
    for (int step = 0; step < 3; ++step) {
      prim::fill(cpu.lr, kLearningRates[step]);
      prim::fill(gpu.lr, kLearningRates[step]);
      prim::sgd_update(cpu.param, cpu.grad, cpu.buffer, cpu.lr, opt, cpu.step);
      prim::sgd_update(gpu.param, gpu.grad, gpu.buffer, gpu.lr, opt, gpu.step);
    }
    EXPECT_TRUE(matches_cpu(gpu.param, cpu.param, DType::f32));
    EXPECT_TRUE(matches_cpu(gpu.buffer, cpu.buffer, DType::f32));
    EXPECT_EQ(gpu.step.item(), 3.0f);
  }
}

TEST(CudaOptimizer, AdamWStepsMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(61);
  const Tensor param = random_tensor({7, 37}, gen), grad = random_tensor({7, 37}, gen);
  State cpu = make_state(param, grad, Device::cpu());
  State gpu = make_state(param, grad, Device::cuda());
  const AdamWOptions opt{0.9, 0.999, 1e-8, 0.01};
  for (int step = 1; step <= 3; ++step) {
    prim::fill(cpu.lr, kLearningRates[step - 1]);
    prim::fill(gpu.lr, kLearningRates[step - 1]);
    prim::adamw_update(cpu.param, cpu.grad, cpu.exp_avg, cpu.exp_avg_sq, cpu.lr, cpu.step, opt);
    prim::adamw_update(gpu.param, gpu.grad, gpu.exp_avg, gpu.exp_avg_sq, gpu.lr, gpu.step, opt);
  }
  EXPECT_EQ(gpu.step.item(), 3.0f);
  EXPECT_TRUE(matches_cpu(gpu.param, cpu.param, DType::f32));
  EXPECT_TRUE(matches_cpu(gpu.exp_avg, cpu.exp_avg, DType::f32));
  EXPECT_TRUE(matches_cpu(gpu.exp_avg_sq, cpu.exp_avg_sq, DType::f32));
}

TEST(CudaOptimizer, ASetSkipFlagLeavesParameterAndStateUntouched) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(62);
  const Tensor param = random_tensor({5, 3}, gen), grad = random_tensor({5, 3}, gen);
  State gpu = make_state(param, grad, Device::cuda());
  const Tensor skip = Tensor::full({1}, 1.0, DType::f32, Device::cuda());
  const SgdOptions dampened{0.9, 0.5, 0.0, false};
  prim::sgd_update(gpu.param, gpu.grad, gpu.buffer, gpu.lr, dampened, gpu.step, &skip);
  prim::adamw_update(gpu.param, gpu.grad, gpu.exp_avg, gpu.exp_avg_sq, gpu.lr, gpu.step, {}, &skip);
  EXPECT_TRUE(same_bytes(gpu.param, param));
  EXPECT_TRUE(same_bytes(gpu.buffer, Tensor::zeros({5, 3})));
  EXPECT_TRUE(same_bytes(gpu.exp_avg, Tensor::zeros({5, 3})));
  EXPECT_EQ(gpu.step.item(), 0.0f);  // the count too: the next update is still the first

  // A clear flag lets the step through.
  const Tensor go = Tensor::zeros({1}, DType::f32, Device::cuda());
  State cpu = make_state(param, grad, Device::cpu());
  prim::sgd_update(cpu.param, cpu.grad, cpu.buffer, cpu.lr, dampened, cpu.step);
  prim::sgd_update(gpu.param, gpu.grad, gpu.buffer, gpu.lr, dampened, gpu.step, &go);
  EXPECT_TRUE(matches_cpu(gpu.param, cpu.param, DType::f32));
  EXPECT_TRUE(matches_cpu(gpu.buffer, cpu.buffer, DType::f32));  // started with g
  EXPECT_EQ(gpu.step.item(), 1.0f);
}

// One launch for many parameters: sizes around the chunk of the multi-tensor table (16384), one
// element, and counts that differ between parameters.
TEST(CudaOptimizer, ManyParametersInOneCallMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(64);
  const int64_t sizes[] = {1, 3, 16384, 16385, 40000, 7};
  std::vector<State> cpu, gpu;
  for (int64_t n : sizes) {
    const Tensor param = random_tensor({n}, gen), grad = random_tensor({n}, gen);
    cpu.push_back(make_state(param, grad, Device::cpu()));
    gpu.push_back(make_state(param, grad, Device::cuda()));
  }
  prim::fill(cpu[2].step, 4.0);
  prim::fill(gpu[2].step, 4.0);
  auto adamw_slots = [](std::vector<State>& states) {
    std::vector<AdamWSlot> slots;
    for (State& s : states)
      slots.push_back({&s.param, &s.grad, &s.exp_avg, &s.exp_avg_sq, &s.step});
    return slots;
  };
  auto sgd_slots = [](std::vector<State>& states) {
    std::vector<SgdSlot> slots;
    for (State& s : states) slots.push_back({&s.param, &s.grad, &s.buffer, &s.step});
    return slots;
  };
  const AdamWOptions adamw{0.9, 0.999, 1e-8, 0.01};
  const SgdOptions sgd{0.9, 0.1, 5e-4, false};
  for (int step = 0; step < 2; ++step) {
    prim::adamw_update(adamw_slots(cpu), cpu[0].lr, adamw);
    prim::adamw_update(adamw_slots(gpu), gpu[0].lr, adamw);
    prim::sgd_update(sgd_slots(cpu), cpu[0].lr, sgd);
    prim::sgd_update(sgd_slots(gpu), gpu[0].lr, sgd);
  }
  for (size_t i = 0; i < cpu.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "tensor " << i << " of " << sizes[i]);
    EXPECT_TRUE(matches_cpu(gpu[i].param, cpu[i].param, DType::f32));
    EXPECT_TRUE(matches_cpu(gpu[i].exp_avg_sq, cpu[i].exp_avg_sq, DType::f32));
    EXPECT_TRUE(matches_cpu(gpu[i].buffer, cpu[i].buffer, DType::f32));
    EXPECT_EQ(gpu[i].step.item(), cpu[i].step.item());
  }
}

TEST(CudaOptimizer, ACapturedStepReadsTheLearningRateOfEachReplay) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(63);
  const Tensor param = random_tensor({4, 9}, gen), grad = random_tensor({4, 9}, gen);
  State gpu = make_state(param, grad, Device::cuda());
  State cpu = make_state(param, grad, Device::cpu());
  const SgdOptions opt{0.0, 0.0, 0.0, false};
  const cudaStream_t s = cuda::stream(Device::cuda());
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  prim::sgd_update(gpu.param, gpu.grad, gpu.buffer, gpu.lr, opt, gpu.step);
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  for (double lr : {0.5, 0.25}) {
    prim::fill(gpu.lr, lr);  // after the capture: only the value in device memory changes
    prim::fill(cpu.lr, lr);
    ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
    prim::sgd_update(cpu.param, cpu.grad, cpu.buffer, cpu.lr, opt, cpu.step);
  }
  EXPECT_TRUE(matches_cpu(gpu.param, cpu.param, DType::f32));
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
}

}  // namespace
}  // namespace remix
