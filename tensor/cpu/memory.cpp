// Host memory: 64-byte aligned blocks (a cache line, and one AVX-512 register), plain memcpy.
#include <cstdlib>
#include <cstring>

#include "tensor/cpu/cpu_backend.h"

namespace remix {

void* CpuBackend::allocate(size_t nbytes, Device) {
  if (nbytes == 0) return nullptr;
  const size_t rounded = (nbytes + 63) / 64 * 64;  // aligned_alloc wants a multiple of 64
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr)
    throw OutOfMemoryError(fmt::format("out of host memory: could not allocate {:.1f} MiB",
                                       static_cast<double>(nbytes) / (1 << 20)));
  return p;
}

void CpuBackend::deallocate(void* ptr, size_t, Device) { std::free(ptr); }

void CpuBackend::copy_from_host(void* dst, const void* src, size_t nbytes, Device) {
  std::memcpy(dst, src, nbytes);
}

void CpuBackend::copy_to_host(void* dst, const void* src, size_t nbytes, Device) {
  std::memcpy(dst, src, nbytes);
}

void CpuBackend::synchronize(Device) {}

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace remix
