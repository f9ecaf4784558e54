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
