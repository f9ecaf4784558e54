// The device facts remix-bench reports (tensor/backend.h): name and allocator counters, from
// cuda/device_info.cpp (or tensor/no_cuda.cpp in a build without CUDA).
#include "tensor/backend.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

TEST(DeviceInfo, TheCpuHasANameAndNoAllocatorCounters) {
  EXPECT_EQ(device_name(Device::cpu()), "cpu");
  reset_peak_device_memory(Device::cpu());
  const DeviceMemoryStats stats = device_memory_stats(Device::cpu());
  EXPECT_EQ(stats.allocated, 0u);
  EXPECT_EQ(stats.peak_allocated, 0u);
  EXPECT_EQ(stats.reserved, 0u);
}

TEST(DeviceInfo, AGpuCountsItsTensorsAndTheirPeak) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  EXPECT_FALSE(device_name(gpu).empty());
  const size_t before = device_memory_stats(gpu).allocated;
  reset_peak_device_memory(gpu);
  {
    const Tensor t = Tensor::zeros({1 << 20}, DType::f32, gpu);  // 4 MiB
    EXPECT_GE(device_memory_stats(gpu).allocated, before + t.nbytes());
  }
  const DeviceMemoryStats after = device_memory_stats(gpu);
  EXPECT_GE(after.peak_allocated, before + (size_t{4} << 20));
  EXPECT_LE(after.allocated, after.peak_allocated);
  EXPECT_GE(after.reserved, after.peak_allocated);
}

}  // namespace
}  // namespace remix
