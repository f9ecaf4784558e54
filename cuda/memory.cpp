// The memory primitives of the CUDA backend: allocation through the caching allocator
// (cuda/allocator.cpp) and copies between the host and a device.
//
// Uploads are asynchronous. A copy from ordinary (pageable) host memory cannot run while the
// host goes on, so each upload is first copied into one of a few pinned staging buffers, and the
// device copies from there on the stream. Each staging slot records an event after its copy; the
// host waits on that event only when it comes back to the slot. The caller's buffer is free to
// reuse as soon as copy_from_host returns. Downloads wait: copy_to_host is where the host
// synchronises with the device, because it needs the data.
//
// Host copies are not allowed inside a captured CUDA graph (they wait on events or the stream).
#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include "cuda/cuda_backend.h"
#include "cuda/runtime.h"

namespace remix {
namespace {

constexpr int kStagingSlots = 4;
constexpr size_t kStagingSlotBytes = size_t{4} << 20;  // larger uploads go in 4 MiB chunks

struct StagingSlot {
  void* host = nullptr;          // kStagingSlotBytes of pinned memory
  cudaEvent_t copied = nullptr;  // recorded on the stream after the copy out of `host`
};

struct StagingRing {
  std::mutex mutex;  // uploads may come from several threads (the data loader's, for one)
  std::array<StagingSlot, kStagingSlots> slots;
  int next = 0;
};

StagingRing& staging_ring(Device device) {
  static auto* rings = new std::array<StagingRing, cuda::kMaxDevices>();  // never destroyed
  return (*rings)[device.index];
}

// Allocates the slots' buffers and events the first time (and again after a failed attempt).
void prepare(StagingSlot& slot) {
  if (slot.host == nullptr) slot.host = cuda::allocate_pinned(kStagingSlotBytes);
  if (slot.copied == nullptr)
    REMIX_CUDA_CHECK(cudaEventCreateWithFlags(&slot.copied, cudaEventDisableTiming));
}

}  // namespace

void* CudaBackend::allocate(size_t nbytes, Device device) {
  return cuda::allocate(nbytes, device);
}

void CudaBackend::deallocate(void* ptr, size_t nbytes, Device device) {
  cuda::deallocate(ptr, nbytes, device);
}

void CudaBackend::copy_from_host(void* dst, const void* src, size_t nbytes, Device device) {
  if (nbytes == 0) return;
  cudaStream_t stream = cuda::stream(device);
  StagingRing& ring = staging_ring(device);
  std::lock_guard lock(ring.mutex);
  for (size_t offset = 0; offset < nbytes; offset += kStagingSlotBytes) {
    const size_t chunk = std::min(kStagingSlotBytes, nbytes - offset);
    StagingSlot& slot = ring.slots[ring.next];
    ring.next = (ring.next + 1) % kStagingSlots;
    prepare(slot);
    // The previous copy out of this slot must be done before the slot is overwritten (an event
    // that was never recorded counts as done).
    REMIX_CUDA_CHECK(cudaEventSynchronize(slot.copied));
    std::memcpy(slot.host, static_cast<const char*>(src) + offset, chunk);
    REMIX_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + offset, slot.host, chunk,
                                     cudaMemcpyHostToDevice, stream));
    REMIX_CUDA_CHECK(cudaEventRecord(slot.copied, stream));
  }
}

void CudaBackend::copy_to_host(void* dst, const void* src, size_t nbytes, Device device) {
  if (nbytes == 0) return;
  cudaStream_t stream = cuda::stream(device);
  REMIX_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream));
  REMIX_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void CudaBackend::synchronize(Device device) {
  REMIX_CUDA_CHECK(cudaStreamSynchronize(cuda::stream(device)));
}

}  // namespace remix
