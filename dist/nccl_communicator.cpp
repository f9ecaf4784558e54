// The NCCL communicator: gradients on a GPU, one process per GPU (communicator.h). Compiled only
// with the CUDA backend, MPI and NCCL (dist/no_nccl.cpp otherwise).
//
// Rank 0 makes NCCL's unique id and broadcasts it over MPI; every rank then joins one NCCL
// communicator on its device. average() queues one ncclAllReduce(ncclAvg) per tensor inside a
// group, which NCCL fuses, on the device's compute stream: later kernels (the optimizer step)
// wait for it on the device and the host does not. start_average() queues the same on a side
// stream that first waits for the kernels queued so far (those that wrote the gradients), so the
// reduction runs while the compute stream goes on with backward; wait_all() makes the compute
// stream wait for the side stream.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdlib>
#include <cstring>

#include "cuda/runtime.h"
#include "dist/communicator.h"
#include "tensor/check.h"

namespace remix::dist {

namespace {

void check_nccl(ncclResult_t status, const char* call) {
  if (status == ncclSuccess) return;
  throw_error(fmt::format("{} failed: {} ({})", call, ncclGetErrorString(status),
                          ncclGetLastError(nullptr) ? ncclGetLastError(nullptr) : ""));
}
#define REMIX_NCCL_CHECK(call) check_nccl((call), #call)

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return ncclFloat32;
    case DType::f16:
      return ncclFloat16;
    case DType::bf16:
      return ncclBfloat16;
    default:
      throw_error(fmt::format("NCCL average: expected f32, f16 or bf16 tensors, got {}",
                              dtype_name(dtype)));
  }
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::shared_ptr<Communicator> host, Device device)
      : host_(std::move(host)), device_(device) {
    cuda::set_device(device_);
    ncclUniqueId id;
    std::vector<uint8_t> bytes(sizeof id);
    if (host_->is_root()) {
      REMIX_NCCL_CHECK(ncclGetUniqueId(&id));
      std::memcpy(bytes.data(), &id, sizeof id);
    }
    host_->broadcast(bytes, 0);
    REMIX_CHECK(bytes.size() == sizeof id, "NCCL: rank 0 sent a unique id of {} bytes, not {}",
                bytes.size(), sizeof id);
    std::memcpy(&id, bytes.data(), sizeof id);
    REMIX_NCCL_CHECK(ncclCommInitRank(&comm_, host_->world_size(), id, host_->rank()));
    check_cuda(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cuda(cudaEventCreateWithFlags(&gradients_written_, cudaEventDisableTiming),
               "cudaEventCreate");
    check_cuda(cudaEventCreateWithFlags(&reduced_, cudaEventDisableTiming), "cudaEventCreate");
  }
  ~NcclCommunicator() override {
    cudaEventDestroy(reduced_);
    cudaEventDestroy(gradients_written_);
    cudaStreamDestroy(side_);
    ncclCommDestroy(comm_);
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return host_->rank(); }
  int world_size() const override { return host_->world_size(); }
  int local_rank() const override { return host_->local_rank(); }

  void average(std::vector<Tensor>& tensors) override {
    all_reduce_mean(tensors, cuda::stream(device_));
  }

  void start_average(std::vector<Tensor> tensors) override {
    check_cuda(cudaEventRecord(gradients_written_, cuda::stream(device_)), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(side_, gradients_written_, 0), "cudaStreamWaitEvent");
    all_reduce_mean(tensors, side_);
    started_ = true;
  }

  void wait_all() override {
    if (!started_) return;
    check_cuda(cudaEventRecord(reduced_, side_), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(cuda::stream(device_), reduced_, 0), "cudaStreamWaitEvent");
    started_ = false;
  }

  void sum(std::vector<double>& values) override { host_->sum(values); }
  void broadcast(std::vector<uint8_t>& bytes, int root) override { host_->broadcast(bytes, root); }
  std::vector<std::vector<uint8_t>> gather(const std::vector<uint8_t>& bytes, int root) override {
    return host_->gather(bytes, root);
  }

  // Aborting the NCCL communicator first frees any kernel waiting for a dead peer.
  [[noreturn]] void abort(const std::string& message) override {
    ncclCommAbort(comm_);
    host_->abort(message);
    std::_Exit(1);  // not reached: the host's abort ends the process
  }

 private:
  static void check_cuda(cudaError_t status, const char* call) {
    REMIX_CHECK(status == cudaSuccess, "{} failed: {}", call, cudaGetErrorString(status));
  }

  // One ncclAllReduce(ncclAvg) per tensor, in place, grouped so that NCCL fuses them.
  void all_reduce_mean(std::vector<Tensor>& tensors, cudaStream_t stream) {
    REMIX_NCCL_CHECK(ncclGroupStart());
    for (Tensor& t : tensors) {
      REMIX_CHECK(t.device() == device_, "NCCL average: a tensor on {}, expected {}",
                  to_string(t.device()), to_string(device_));
      REMIX_NCCL_CHECK(ncclAllReduce(t.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()),
                                     nccl_type(t.dtype()), ncclAvg, comm_, stream));
    }
    REMIX_NCCL_CHECK(ncclGroupEnd());
  }

  std::shared_ptr<Communicator> host_;
  Device device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t side_ = nullptr;                // the reductions started during backward
  cudaEvent_t gradients_written_ = nullptr;    // the side stream waits for the gradients
  cudaEvent_t reduced_ = nullptr;              // the compute stream waits for the reductions
  bool started_ = false;
};

}  // namespace

std::shared_ptr<Communicator> communicator_for_device(std::shared_ptr<Communicator> host,
                                                      Device device) {
  if (!device.is_cuda() || host->world_size() == 1) return host;
  return std::make_shared<NcclCommunicator>(std::move(host), device);
}

bool built_with_nccl() {
  return true;
}

}  // namespace remix::dist
