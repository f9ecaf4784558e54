// Compiled instead of cuda/ when remix is built with REMIX_CUDA=OFF: the one place that answers
// "this build has no CUDA". Everything above tensor/ compiles unchanged either way.
#include "tensor/backend.h"

namespace remix {

Backend& cuda_backend() {
  throw_error(
      "this build of remix has no CUDA backend: reconfigure with -DREMIX_CUDA=ON on a machine "
      "with the CUDA toolkit and cuDNN, or use the cpu device");
}

bool cuda_available() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_unavailable_reason() { return "this build of remix has no CUDA backend"; }

DeviceMemoryStats device_memory_stats(Device device) {
  if (device.is_cuda()) cuda_backend();  // throws: no CUDA in this build
  return {};
}

void reset_peak_device_memory(Device device) {
  if (device.is_cuda()) cuda_backend();
}

int64_t device_upload_waits(Device device) {
  if (device.is_cuda()) cuda_backend();
  return 0;
}

std::string device_name(Device device) {
  if (device.is_cuda()) cuda_backend();
  return "cpu";
}

}  // namespace remix
