// The memory primitives of the CUDA backend: allocation through the caching allocator
// (cuda/allocator.cpp) and copies between the host and a device.
//
// Uploads are asynchronous. A copy from ordinary (pageable) host memory cannot run while the
// host goes on, so each upload is first copied into a pinned staging buffer, and the device
// copies from there on the stream. Uploads take consecutive ranges of that buffer, each as large
// as it needs (cuda/staging_ring.h keeps the books), and each range records an event after its
// copy. The host waits on an event only when the ring comes round to a range whose copy has not
// finished yet; those waits are counted (upload_waits), and in a training loop they should stay at
// 0 after warm-up: a step's uploads take well under 1 MiB of the 16 MiB buffer. The caller's
// buffer is free to reuse as soon as copy_from_host returns. Downloads wait: copy_to_host is
// where the host synchronises with the device, because it needs the data.
//
// Host copies are not allowed inside a captured CUDA graph (they wait on events or the stream).
#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/runtime.h"
#include "cuda/staging_ring.h"

namespace remix {
namespace {

constexpr size_t kStagingBytes = size_t{16} << 20;  // larger uploads go in pieces of this size

struct Staging {
  std::mutex mutex;  // uploads may come from several threads (the data loader's, for one)
  std::optional<cuda::StagingRing> ring;  // created with the buffer
  void* host = nullptr;                   // kStagingBytes of pinned memory
  std::vector<cudaEvent_t> events;        // by the ring's slot number, created on first use
  std::atomic<int64_t> waits{0};          // uploads that had to wait for an earlier copy
};

Staging& staging(Device device) {
  static auto* all = new std::array<Staging, cuda::kMaxDevices>();  // never destroyed
  return (*all)[device.index];
}

cudaEvent_t event_of(Staging& st, int slot) {
  while (static_cast<int>(st.events.size()) <= slot) {
    cudaEvent_t e = nullptr;
    REMIX_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    st.events.push_back(e);
  }
  return st.events[slot];
}

// Waits until the copies of `slots` are done; counts one host wait if any was still running.
void wait_for(Staging& st, const std::vector<int>& slots) {
  bool waited = false;
  for (int slot : slots) {
    const cudaError_t status = cudaEventQuery(event_of(st, slot));
    if (status == cudaSuccess) continue;
    if (status != cudaErrorNotReady)
      cuda::throw_cuda_error(status, "cudaEventQuery", __FILE__, __LINE__);
    REMIX_CUDA_CHECK(cudaEventSynchronize(event_of(st, slot)));
    waited = true;
  }
  if (waited) ++st.waits;
}

// One piece of an upload (at most kStagingBytes): staged, then copied on the stream.
void upload_piece(Staging& st, void* dst, const void* src, size_t bytes, cudaStream_t stream) {
  const cuda::StagingRing::Placement at = st.ring->place(bytes);
  wait_for(st, at.wait_for);
  char* staged = static_cast<char*>(st.host) + at.offset;
  std::memcpy(staged, src, bytes);
  REMIX_CUDA_CHECK(cudaMemcpyAsync(dst, staged, bytes, cudaMemcpyHostToDevice, stream));
  REMIX_CUDA_CHECK(cudaEventRecord(event_of(st, at.slot), stream));
}

}  // namespace

namespace cuda {

int64_t upload_waits(Device device) {
  return staging(device).waits.load();
}

}  // namespace cuda

void* CudaBackend::allocate(size_t nbytes, Device device) {
  return cuda::allocate(nbytes, device);
}

void CudaBackend::deallocate(void* ptr, size_t nbytes, Device device) {
  cuda::deallocate(ptr, nbytes, device);
}

void CudaBackend::copy_from_host(void* dst, const void* src, size_t nbytes, Device device) {
  if (nbytes == 0) return;
  cudaStream_t stream = cuda::stream(device);
  Staging& st = staging(device);
  std::lock_guard lock(st.mutex);
  if (st.host == nullptr) {
    st.host = cuda::allocate_pinned(kStagingBytes);
    st.ring.emplace(kStagingBytes);
  }
  for (size_t offset = 0; offset < nbytes; offset += kStagingBytes) {
    const size_t piece = std::min(kStagingBytes, nbytes - offset);
    upload_piece(st, static_cast<char*>(dst) + offset, static_cast<const char*>(src) + offset,
                 piece, stream);
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
