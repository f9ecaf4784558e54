// Device management for the CUDA backend: which devices exist, the one stream of each device
// with its cuDNN and cuBLAS handles, the cuDNN version check, and the error reporting used by
// the REMIX_*_CHECK macros of cuda/runtime.h.
//
// The per-device state is created on first use and lives until the process ends: it is never
// destroyed, because tensors held in static objects may still release memory (and the CUDA
// runtime may already be shutting down) while static destructors run.
#include "cuda/runtime.h"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/sync_check.h"
#include "tensor/check.h"

namespace remix {
namespace cuda {

// ------------------------------------------------------------------------------------- errors

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line) {
  // Reading the last error resets it (unless the error is sticky, i.e. the context is lost),
  // so a later REMIX_CUDA_CHECK_LAUNCH() does not report this failure a second time.
  cudaGetLastError();
  throw Error(fmt::format("CUDA call {} failed at {}:{}: {} ({})", call, file, line,
                          cudaGetErrorString(status), cudaGetErrorName(status)));
}

void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  // cuDNN 9 keeps a more detailed message for the last failure of this thread.
  char details[512] = {};
  cudnnGetLastErrorString(details, sizeof(details));
  throw Error(fmt::format("cuDNN call {} failed at {}:{}: {}{}{}", call, file, line,
                          cudnnGetErrorString(status), details[0] != '\0' ? ": " : "", details));
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw Error(fmt::format("cuBLAS call {} failed at {}:{}: {} ({})", call, file, line,
                          cublasGetStatusString(status), cublasGetStatusName(status)));
}

// ------------------------------------------------------------------------------------ devices

namespace {

// cuDNN 9 encodes its version as major * 10000 + minor * 100 + patch (8.x used major * 1000).
std::string describe_cudnn_version(size_t v) {
  if (v >= 90000) return fmt::format("{}.{}.{}", v / 10000, v / 100 % 100, v % 100);
  return fmt::format("{}.{}.{}", v / 1000, v / 100 % 10, v % 100);
}

}  // namespace

size_t cudnn_runtime_version() {
  // The descriptor API remix uses is the one of cuDNN 9.x; the GPU machine may load an older
  // 9.x than the headers here, which is fine, but another major version is not.
  static const size_t version = [] {
    const size_t v = cudnnGetVersion();
    REMIX_CHECK(v / 10000 == 9,
                "cuDNN {} is loaded at run time, but remix needs cuDNN 9.x (it was built against "
                "{}.{}.{}); put a cuDNN 9 library first on LD_LIBRARY_PATH",
                describe_cudnn_version(v), CUDNN_MAJOR, CUDNN_MINOR, CUDNN_PATCHLEVEL);
    return v;
  }();
  return version;
}

void set_device(Device device) {
  REMIX_CHECK(device.is_cuda(), "expected a CUDA device, got {}", to_string(device));
  const int count = cuda_device_count();
  REMIX_CHECK(count > 0, "{} is not available: this machine has no CUDA device (or no driver)",
              to_string(device));
  REMIX_CHECK(device.index >= 0 && device.index < count && device.index < kMaxDevices,
              "{} is not available: this machine has {} CUDA device(s), cuda:0 to cuda:{}",
              to_string(device), count, count - 1);
  REMIX_CUDA_CHECK(cudaSetDevice(device.index));
}

std::string device_name(Device device) {
  set_device(device);
  cudaDeviceProp properties{};
  REMIX_CUDA_CHECK(cudaGetDeviceProperties(&properties, device.index));
  return properties.name;
}

// ------------------------------------------------------------------- stream and library handles

namespace {

// cuBLAS gets its workspace from remix's allocator rather than allocating its own during the
// first GEMM, so that a captured CUDA graph never sees a cudaMalloc. 32 MiB is what cuBLAS
// recommends for Hopper.
constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;

struct DeviceContext {
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
};

struct ContextSlot {
  std::once_flag created;
  DeviceContext context;
};

struct CacheRegistry {
  std::mutex mutex;
  std::vector<void (*)()> releasers;
};

CacheRegistry& cache_registry() {
  static auto* registry = new CacheRegistry();  // never destroyed (see top)
  return *registry;
}

DeviceContext create_context(Device device) {
  cudnn_runtime_version();  // refuse an unsuitable cuDNN before creating any handle
  DeviceContext c;
  // Non-blocking: remix's stream never waits for work on the legacy default stream.
  REMIX_CUDA_CHECK(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking));
  REMIX_CUDNN_CHECK(cudnnCreate(&c.cudnn));
  REMIX_CUDNN_CHECK(cudnnSetStream(c.cudnn, c.stream));
  // Registered after cuDNN has started, so that it runs before cuDNN's own exit-time teardown.
  static std::once_flag exit_handler;
  std::call_once(exit_handler, [] { std::atexit(release_caches); });
  REMIX_CUBLAS_CHECK(cublasCreate(&c.cublas));
  // cublasSetStream resets the workspace, so the workspace is set after it.
  REMIX_CUBLAS_CHECK(cublasSetStream(c.cublas, c.stream));
  REMIX_CUBLAS_CHECK(
      cublasSetWorkspace(c.cublas, allocate(kCublasWorkspaceBytes, device), kCublasWorkspaceBytes));
  // Full f32 GEMMs (no TF32), as torch.backends.cuda.matmul.allow_tf32 = False by default;
  // f16/bf16 GEMMs still use tensor cores with f32 accumulation (cuda/gemm.cpp).
  REMIX_CUBLAS_CHECK(cublasSetMathMode(c.cublas, CUBLAS_DEFAULT_MATH));
  return c;
}

const DeviceContext& context(Device device) {
  set_device(device);
  static auto* slots = new std::array<ContextSlot, kMaxDevices>();  // never destroyed (see top)
  ContextSlot& slot = (*slots)[device.index];
  std::call_once(slot.created, [&] { slot.context = create_context(device); });
  return slot.context;
}

}  // namespace

void register_cache(void (*release)()) {
  CacheRegistry& r = cache_registry();
  std::lock_guard lock(r.mutex);
  r.releasers.push_back(release);
}

void release_caches() {
  CacheRegistry& r = cache_registry();
  std::lock_guard lock(r.mutex);
  for (auto release : r.releasers) release();
}

cudaStream_t stream(Device device) {
  return context(device).stream;
}
cudnnHandle_t cudnn_handle(Device device) {
  return context(device).cudnn;
}
cublasHandle_t cublas_handle(Device device) {
  return context(device).cublas;
}

}  // namespace cuda

// ------------------------------------------------------------- the backend's entry points

namespace {

// The answer of cudaGetDeviceCount, asked once: devices do not come and go while a process runs.
struct DeviceCount {
  int count = 0;
  std::string why_none;  // the driver's error, or why 0 devices count as none; empty if count > 0
};

const DeviceCount& device_count() {
  // Without a driver or a device cudaGetDeviceCount fails; that means "no CUDA here", not an
  // error, but the reason is kept for whoever has to find out why a GPU was not seen.
  static const DeviceCount answer = [] {
    DeviceCount a;
    const cudaError_t status = cudaGetDeviceCount(&a.count);
    if (status != cudaSuccess) {
      cudaGetLastError();
      a.count = 0;
      a.why_none = fmt::format("cudaGetDeviceCount failed: {} ({})", cudaGetErrorString(status),
                               cudaGetErrorName(status));
    } else if (a.count == 0) {
      a.why_none = "cudaGetDeviceCount found 0 devices";
    }
    return a;
  }();
  return answer;
}

}  // namespace

int cuda_device_count() {
  return device_count().count;
}

std::string cuda_unavailable_reason() {
  return device_count().why_none;
}

bool cuda_available() {
  return cuda_device_count() > 0;
}

Backend& cuda_backend() {
  // REMIX_CUDA_SYNC=1 swaps in the checking wrapper (cuda/sync_check.h), for finding faults.
  if (cuda::sync_after_primitives()) return cuda::sync_checked_backend();
  static CudaBackend backend;
  return backend;
}

}  // namespace remix
