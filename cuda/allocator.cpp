// The caching allocator of device memory, and pinned host memory.
//
// cudaMalloc and cudaFree are slow (cudaFree also waits for the whole device), and a training
// step allocates and frees the same tensor sizes over and over. So a freed block is not returned
// to the driver: it goes to a free list keyed by its size, and the next request of that size
// takes it back. Sizes are rounded up so that nearby requests share blocks: to 512 bytes up to
// 1 MiB, and to 2 MiB above that.
//
// Reuse needs no events because all of remix's work on a device runs on its one stream
// (cuda/runtime.h): a kernel queued after the free that writes the reused block runs after every
// kernel queued before the free that still reads it.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <unordered_map>

#include "cuda/runtime.h"
#include "tensor/check.h"

namespace remix::cuda {
namespace {

constexpr size_t kSmallLimit = size_t{1} << 20;
constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeGranule = size_t{2} << 20;

size_t rounded_size(size_t nbytes) {
  const size_t granule = nbytes <= kSmallLimit ? kSmallGranule : kLargeGranule;
  return (nbytes + granule - 1) / granule * granule;
}

double mib(size_t bytes) {
  return static_cast<double>(bytes) / (1 << 20);
}

struct Block {
  size_t size = 0;       // rounded: what the block takes from the cache and the driver
  size_t requested = 0;  // what the caller asked for: what `allocated` counts
};

struct DevicePool {
  std::mutex mutex;
  std::unordered_multimap<size_t, void*> cached;  // rounded size -> free block
  std::unordered_map<void*, Block> in_use;        // block -> its sizes
  size_t cached_bytes = 0;
  MemoryStats stats;
};

DevicePool& pool_of(int index) {
  // Never destroyed: tensors in static objects may free their memory after static destructors.
  static auto* pools = new std::array<DevicePool, kMaxDevices>();
  return (*pools)[index];
}

// The pool of a device that is checked to exist, and made current for the cudaMalloc/cudaFree.
DevicePool& pool(Device device) {
  set_device(device);
  return pool_of(device.index);
}

// Takes a cached block of exactly `size` bytes, or returns nullptr.
void* take_cached(DevicePool& p, size_t size) {
  const auto it = p.cached.find(size);
  if (it == p.cached.end()) return nullptr;
  void* ptr = it->second;
  p.cached.erase(it);
  p.cached_bytes -= size;
  return ptr;
}

// Returns every cached block to the driver. The caller holds the pool's mutex.
void release_cached(DevicePool& p) {
  if (p.cached.empty()) return;
  // A cached block may still be read by queued work that was enqueued before its tensor died.
  REMIX_CUDA_CHECK(cudaDeviceSynchronize());
  for (const auto& [size, ptr] : p.cached) {
    REMIX_CUDA_CHECK(cudaFree(ptr));
    p.stats.reserved -= size;
  }
  p.cached.clear();
  p.cached_bytes = 0;
}

[[noreturn]] void throw_out_of_memory(const DevicePool& p, size_t requested, size_t cached_before,
                                      Device device) {
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) cudaGetLastError();
  throw OutOfMemoryError(fmt::format(
      "CUDA out of memory on {}: tried to allocate {:.1f} MiB ({} bytes); remix holds {:.1f} MiB "
      "in tensors and held {:.1f} MiB in its cache (released before a retry); the device has "
      "{:.1f} MiB free of {:.1f} MiB. Use a smaller batch or a 16-bit precision.",
      to_string(device), mib(requested), requested, mib(p.stats.allocated), mib(cached_before),
      mib(free_bytes), mib(total_bytes)));
}

// cudaMalloc of `size` bytes; on failure the cache is released and the call retried once.
void* device_malloc(DevicePool& p, size_t size, size_t requested, Device device) {
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, size);
  const size_t cached_before = p.cached_bytes;
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so that later checks do not see it
    release_cached(p);
    status = cudaMalloc(&ptr, size);
  }
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw_out_of_memory(p, requested, cached_before, device);
  }
  if (status != cudaSuccess) throw_cuda_error(status, "cudaMalloc", __FILE__, __LINE__);
  p.stats.reserved += size;
  return ptr;
}

}  // namespace

void* allocate(size_t nbytes, Device device) {
  if (nbytes == 0) return nullptr;
  DevicePool& p = pool(device);
  const size_t size = rounded_size(nbytes);
  std::lock_guard lock(p.mutex);
  void* ptr = take_cached(p, size);
  if (ptr == nullptr) ptr = device_malloc(p, size, nbytes, device);
  p.in_use.emplace(ptr, Block{size, nbytes});
  // Requested bytes, like PyTorch's memory_allocated; the rounding shows in `reserved`.
  p.stats.allocated += nbytes;
  p.stats.peak_allocated = std::max(p.stats.peak_allocated, p.stats.allocated);
  return ptr;
}

void deallocate(void* ptr, size_t nbytes, Device device) {
  if (ptr == nullptr) return;
  // No CUDA call here: a block only changes lists, so freeing works even while the process exits.
  REMIX_CHECK(device.is_cuda() && device.index >= 0 && device.index < kMaxDevices,
              "cuda::deallocate: {} is not a CUDA device", to_string(device));
  DevicePool& p = pool_of(device.index);
  std::lock_guard lock(p.mutex);
  const auto it = p.in_use.find(ptr);
  REMIX_CHECK(it != p.in_use.end(),
              "cuda::deallocate: {} ({} bytes) was not allocated on {} by remix's allocator", ptr,
              nbytes, to_string(device));
  const Block block = it->second;
  p.in_use.erase(it);
  p.cached.emplace(block.size, ptr);
  p.cached_bytes += block.size;
  p.stats.allocated -= block.requested;
}

MemoryStats memory_stats(Device device) {
  DevicePool& p = pool(device);
  std::lock_guard lock(p.mutex);
  return p.stats;
}

void reset_peak_memory(Device device) {
  DevicePool& p = pool(device);
  std::lock_guard lock(p.mutex);
  p.stats.peak_allocated = p.stats.allocated;
}

void empty_cache(Device device) {
  DevicePool& p = pool(device);
  std::lock_guard lock(p.mutex);
  release_cached(p);
}

// ------------------------------------------------------------------------ pinned host memory

void* allocate_pinned(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  void* ptr = nullptr;
  // Portable: page-locked for every device, not only the current one.
  const cudaError_t status = cudaHostAlloc(&ptr, nbytes, cudaHostAllocPortable);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw OutOfMemoryError(fmt::format(
        "could not allocate {:.1f} MiB of pinned (page-locked) host memory", mib(nbytes)));
  }
  if (status != cudaSuccess) throw_cuda_error(status, "cudaHostAlloc", __FILE__, __LINE__);
  return ptr;
}

void free_pinned(void* ptr) {
  if (ptr != nullptr) REMIX_CUDA_CHECK(cudaFreeHost(ptr));
}

}  // namespace remix::cuda
