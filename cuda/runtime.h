// CUDA device management shared by every file of cuda/: the stream, cuDNN and cuBLAS handles of
// each device, the checking macros, the caching allocator and pinned host buffers.
//
// One stream per device: every kernel, cuDNN and cuBLAS call of remix goes to
// cuda::stream(device), so work is ordered without synchronisation and a whole training step can
// be captured into a CUDA graph. The host waits only where it reads data (copy_to_host).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "tensor/device.h"

namespace remix::cuda {

// Throw remix::Error naming the failed call, the file and the line, with the library's message.
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file,
                                    int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                     int line);

#define REMIX_CUDA_CHECK(call)                                                  \
  do {                                                                          \
    const cudaError_t remix_status_ = (call);                                   \
    if (remix_status_ != cudaSuccess)                                           \
      ::remix::cuda::throw_cuda_error(remix_status_, #call, __FILE__, __LINE__); \
  } while (0)
#define REMIX_CUDNN_CHECK(call)                                                  \
  do {                                                                           \
    const cudnnStatus_t remix_status_ = (call);                                  \
    if (remix_status_ != CUDNN_STATUS_SUCCESS)                                   \
      ::remix::cuda::throw_cudnn_error(remix_status_, #call, __FILE__, __LINE__); \
  } while (0)
#define REMIX_CUBLAS_CHECK(call)                                                  \
  do {                                                                            \
    const cublasStatus_t remix_status_ = (call);                                  \
    if (remix_status_ != CUBLAS_STATUS_SUCCESS)                                   \
      ::remix::cuda::throw_cublas_error(remix_status_, #call, __FILE__, __LINE__); \
  } while (0)
// After a kernel launch: reports launch errors (bad configuration) at the launch site.
#define REMIX_CUDA_CHECK_LAUNCH() REMIX_CUDA_CHECK(cudaGetLastError())

// The most devices remix manages in one process (per-device state lives in fixed arrays).
inline constexpr int kMaxDevices = 64;

// Makes `device` current for the calling thread and returns its stream. Created on first use,
// together with the handles below (bound to that stream).
cudaStream_t stream(Device device);
cudnnHandle_t cudnn_handle(Device device);
cublasHandle_t cublas_handle(Device device);
// Raises remix::Error unless device.index names a present GPU.
void set_device(Device device);

// --- caches of cuDNN objects (convolution plans, batch-norm descriptors) live on the heap and
// register here how to empty themselves. They are emptied by release_caches(), which an exit
// handler calls; that handler is registered right after the first cuDNN handle is created, so it
// runs before the exit-time teardown the CUDA runtime and cuDNN registered earlier. (A static
// cache would instead be destroyed whenever static destruction reached it, possibly after cuDNN's
// teardown, and crash there.) Programs may call release_caches() themselves before they return.
void register_cache(void (*release)());
void release_caches();

// A cache of cuDNN objects (a map) with its mutex, registered with register_cache on first use
// and emptied by release_caches(). On the heap, so that static destruction never reaches it.
template <class Map>
struct ReleasedCache {
  std::mutex mutex;
  Map map;
};
template <class Map>
ReleasedCache<Map>& released_cache() {
  static ReleasedCache<Map>* cache = [] {
    register_cache([] {
      ReleasedCache<Map>& c = released_cache<Map>();
      std::lock_guard lock(c.mutex);
      c.map.clear();
    });
    return new ReleasedCache<Map>();
  }();
  return *cache;
}

// --- caching allocator: blocks are kept after free and reused for requests of the same
// rounded size; cudaMalloc is called only when no cached block fits, and on failure the cache is
// released and the call retried once before an OutOfMemoryError that says how much was
// requested, how much the cache holds and how much the device has free.
void* allocate(size_t nbytes, Device device);
void deallocate(void* ptr, size_t nbytes, Device device);
struct MemoryStats {
  size_t allocated = 0;       // bytes requested by live blocks (PyTorch's memory_allocated)
  size_t peak_allocated = 0;  // highest `allocated` since the last reset (max_memory_allocated)
  size_t reserved = 0;        // bytes obtained from cudaMalloc: live blocks, rounded up, + cached
};
MemoryStats memory_stats(Device device);
void reset_peak_memory(Device device);
void empty_cache(Device device);  // returns cached, unused blocks to the driver

// Uploads (copy_from_host) that had to wait for an earlier upload's copy to free staging memory
// (cuda/memory.cpp): 0 after warm-up in a training loop.
int64_t upload_waits(Device device);

// --- pinned (page-locked) host memory for batch uploads: copies from it run asynchronously.
void* allocate_pinned(size_t nbytes);
void free_pinned(void* ptr);

// Version of the cuDNN library loaded at run time, checked to be 9.x at first use.
size_t cudnn_runtime_version();
std::string device_name(Device device);

}  // namespace remix::cuda
