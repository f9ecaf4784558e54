// Host memory: 64-byte aligned blocks (a cache line, and one AVX-512 register), plain memcpy.
//
// Freed blocks of 64 KiB and more are kept by size and handed out again: a training step
// allocates the same activation and gradient sizes every step, and memory fresh from the system
// costs a page fault per 4 KiB page (the kernel zeroes each one), several percent of a CPU step.
// The cache keeps at most kMaxCachedBytes; an allocation that the system refuses empties the cache
// and is tried once more before it is reported as out of memory.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensor/cpu/cpu_backend.h"

namespace remix {
namespace {

constexpr size_t kMinCachedBytes = size_t{64} << 10;
constexpr size_t kMaxCachedBytes = size_t{2} << 30;

class BlockCache {
 public:
  void* take(size_t bytes) {
    const std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= bytes;
    return p;
  }

  // False when the cache is full: the caller frees the block.
  bool give(void* p, size_t bytes) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + bytes > kMaxCachedBytes) return false;
    free_[bytes].push_back(p);
    cached_ += bytes;
    return true;
  }

  void release_all() {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_ = 0;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

// Never destroyed: tensors that outlive static destruction may still return their blocks.
BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache;
  return *cache;
}

// aligned_alloc wants a multiple of the alignment.
size_t rounded_size(size_t nbytes) {
  return (nbytes + 63) / 64 * 64;
}

}  // namespace

void* CpuBackend::allocate(size_t nbytes, Device) {
  if (nbytes == 0) return nullptr;
  const size_t bytes = rounded_size(nbytes);
  if (bytes >= kMinCachedBytes) {
    if (void* p = block_cache().take(bytes)) return p;
  }
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) {
    block_cache().release_all();
    p = std::aligned_alloc(64, bytes);
  }
  if (p == nullptr)
    throw OutOfMemoryError(fmt::format("out of host memory: could not allocate {:.1f} MiB",
                                       static_cast<double>(nbytes) / (1 << 20)));
  return p;
}

void CpuBackend::deallocate(void* ptr, size_t nbytes, Device) {
  if (ptr == nullptr) return;
  const size_t bytes = rounded_size(nbytes);
  if (bytes >= kMinCachedBytes && block_cache().give(ptr, bytes)) return;
  std::free(ptr);
}

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
