// Loss scaling on the GPU against the CPU backend: unscaling f32/f16/bf16 gradients with the
// found_inf flag (set by an infinity or a NaN, kept across tensors), and a sequence of scale
// updates through overflows, growth intervals and a growth that would overflow the scale.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::kFloatTypes;
using testing::matches_cpu;
using testing::random_tensor;
using testing::rounded;
using testing::same_bytes;
using testing::to_gpu;

Tensor scalar(double value, Device device) {
  return Tensor::full({1}, value, DType::f32, device);
}

TEST(CudaAmp, UnscaleMatchesTheCpuAndLeavesTheFlagClearForFiniteGradients) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(70);
  const Tensor grad = random_tensor({3, 5, 13}, gen, -1000.0, 1000.0);
  for (DType dtype : kFloatTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor gpu = to_gpu(grad, dtype);
    Tensor cpu = grad.clone().to(dtype);
    Tensor flag_gpu = scalar(0, Device::cuda()), flag_cpu = scalar(0, Device::cpu());
    prim::amp_unscale(gpu, scalar(1.0 / 1024, Device::cuda()), flag_gpu);
    prim::amp_unscale(cpu, scalar(1.0 / 1024, Device::cpu()), flag_cpu);
    EXPECT_TRUE(matches_cpu(gpu, cpu.to(DType::f32), dtype));
    EXPECT_EQ(flag_gpu.item(), 0.0f);
    EXPECT_EQ(flag_cpu.item(), 0.0f);
  }
}

// Every gradient of a list in one call (one launch per dtype): mixed dtypes, sizes around the
// multi-tensor chunk (16384); an infinity in one tensor flags the whole call.
TEST(CudaAmp, UnscalesAListOfGradientsAsTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(72);
  const int64_t sizes[] = {5, 16384, 16385, 1, 30000};
  const DType dtypes[] = {DType::f32, DType::bf16, DType::f32, DType::f16, DType::bf16};
  std::vector<Tensor> cpu, gpu;
  for (int k = 0; k < 5; ++k) {
    const Tensor g = random_tensor({sizes[k]}, gen, -100.0, 100.0);
    cpu.push_back(g.to(dtypes[k]));
    gpu.push_back(to_gpu(g, dtypes[k]));
  }
  std::vector<Tensor*> cpu_list, gpu_list;
  for (int k = 0; k < 5; ++k) {
    cpu_list.push_back(&cpu[k]);
    gpu_list.push_back(&gpu[k]);
  }
  Tensor flag_cpu = scalar(0.0, Device::cpu()), flag_gpu = scalar(0.0, Device::cuda());
  prim::amp_unscale(cpu_list, scalar(1.0 / 64, Device::cpu()), flag_cpu);
  prim::amp_unscale(gpu_list, scalar(1.0 / 64, Device::cuda()), flag_gpu);
  for (int k = 0; k < 5; ++k) EXPECT_TRUE(matches_cpu(gpu[k], cpu[k], dtypes[k])) << k;
  EXPECT_EQ(flag_gpu.item(), 0.0f);
  std::vector<float> values(16385, 1.0f);
  values[16384] = std::numeric_limits<float>::infinity();  // in the second chunk
  Tensor with_inf = Tensor::from_vector(values, {16385}).to(Device::cuda());
  gpu_list.push_back(&with_inf);
  prim::amp_unscale(gpu_list, scalar(1.0, Device::cuda()), flag_gpu);
  EXPECT_EQ(flag_gpu.item(), 1.0f);
}

TEST(CudaAmp, UnscaleFlagsAnInfinityOrNanAndNeverClearsTheFlag) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(71);
  for (float bad : {std::numeric_limits<float>::infinity(), std::nanf("")}) {
    for (DType dtype : kFloatTypes) {
      SCOPED_TRACE(::testing::Message() << bad << " " << dtype_name(dtype));
      std::vector<float> values = random_tensor({37}, gen).to_vector<float>();
      values[29] = bad;
      Tensor bad_grad = to_gpu(Tensor::from_vector(values), dtype);
      Tensor good_grad = to_gpu(random_tensor({5}, gen), dtype);
      Tensor flag = scalar(0, Device::cuda());
      const Tensor inv_scale = scalar(0.5, Device::cuda());
      prim::amp_unscale(bad_grad, inv_scale, flag);
      EXPECT_EQ(flag.item(), 1.0f);
      prim::amp_unscale(good_grad, inv_scale, flag);  // a later clean tensor keeps the flag
      EXPECT_EQ(flag.item(), 1.0f);
    }
  }
}

TEST(CudaAmp, ScaleUpdatesFollowTheCpuThroughOverflowsAndGrowth) {
  REMIX_SKIP_WITHOUT_GPU();
  struct Scaler {
    Tensor scale, inv_scale, found_inf, tracker;
  };
  const auto make = [](double initial, Device d) {
    return Scaler{scalar(initial, d), scalar(1.0 / initial, d), scalar(0, d), scalar(0, d)};
  };
  for (double initial : {65536.0, 3e38}) {  // 3e38 * 2 would overflow: the scale must not grow
    SCOPED_TRACE(initial);
    Scaler gpu = make(initial, Device::cuda()), cpu = make(initial, Device::cpu());
    const bool overflow[] = {false, false, true, false, false, false, true, false, false, false};
    for (bool inf : overflow) {
      prim::fill(gpu.found_inf, inf ? 1.0 : 0.0);
      prim::fill(cpu.found_inf, inf ? 1.0 : 0.0);
      prim::amp_update_scale(gpu.scale, gpu.inv_scale, gpu.found_inf, gpu.tracker, 2.0, 0.5, 3);
      prim::amp_update_scale(cpu.scale, cpu.inv_scale, cpu.found_inf, cpu.tracker, 2.0, 0.5, 3);
      EXPECT_TRUE(same_bytes(gpu.scale, cpu.scale));
      EXPECT_TRUE(same_bytes(gpu.inv_scale, cpu.inv_scale));
      EXPECT_TRUE(same_bytes(gpu.tracker, cpu.tracker));
      EXPECT_EQ(gpu.found_inf.item(), 0.0f);
    }
  }
}

}  // namespace
}  // namespace remix
