// Device facts for programs that report them (remix-bench): the caching allocator's memory
// counters and the device's name, behind the device-independent functions of tensor/backend.h.
#include "cuda/runtime.h"
#include "tensor/backend.h"

namespace remix {

DeviceMemoryStats device_memory_stats(Device device) {
  if (device.is_cpu()) return {};
  const cuda::MemoryStats stats = cuda::memory_stats(device);
  return {stats.allocated, stats.peak_allocated, stats.reserved};
}

int64_t device_upload_waits(Device device) {
  return device.is_cpu() ? 0 : cuda::upload_waits(device);
}

void reset_peak_device_memory(Device device) {
  if (device.is_cuda()) cuda::reset_peak_memory(device);
}

std::string device_name(Device device) {
  return device.is_cpu() ? std::string("cpu") : cuda::device_name(device);
}

}  // namespace remix
