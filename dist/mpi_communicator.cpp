// The MPI communicator: host values and CPU tensors over MPI_COMM_WORLD (communicator.h).
// Compiled when CMake found MPI (REMIX_DISTRIBUTED=AUTO|ON); dist/no_mpi.cpp replaces it
// otherwise.
#include <mpi.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>

#include "dist/communicator.h"
#include "tensor/check.h"

namespace remix::dist {

namespace {

// An MPI call that fails reports itself; the default handler of MPI_COMM_WORLD
// (MPI_ERRORS_ARE_FATAL) already ends the job on most errors, this covers the rest.
void check_mpi(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw_error(fmt::format("{} failed: {}", call, std::string(text, static_cast<size_t>(length))));
}
#define REMIX_MPI_CHECK(call) check_mpi((call), #call)

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    // Funnelled: only the thread that called MPI_Init calls MPI (the loader's workers never do).
    int provided = 0;
    REMIX_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    REMIX_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    REMIX_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
    // The processes sharing this machine's memory, in rank order: the local rank picks the GPU.
    MPI_Comm local;
    REMIX_MPI_CHECK(
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local));
    REMIX_MPI_CHECK(MPI_Comm_rank(local, &local_rank_));
    MPI_Comm_free(&local);
  }
  ~MpiCommunicator() override { MPI_Finalize(); }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  int local_rank() const override { return local_rank_; }

  // One MPI_Allreduce for all the tensors: they are packed into one f32 buffer (a gradient
  // bucket), summed in place, divided by the world size and unpacked.
  void average(std::vector<Tensor>& tensors) override {
    pack(tensors, buffer_);
    REMIX_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buffer_.data(), static_cast<int>(buffer_.size()),
                                  MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
    unpack_mean(buffer_, tensors);
  }

  // MPI_Iallreduce on a buffer of the bucket's own (it must stay put until the wait). Testing
  // the earlier requests lets MPI progress them: without a progress thread it moves only inside
  // MPI calls.
  void start_average(std::vector<Tensor> tensors) override {
    Pending& p = pending_.emplace_back();
    p.tensors = std::move(tensors);
    pack(p.tensors, p.buffer);
    REMIX_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, p.buffer.data(), static_cast<int>(p.buffer.size()),
                                   MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &p.request));
    for (Pending& earlier : pending_) {
      int done = 0;
      REMIX_MPI_CHECK(MPI_Test(&earlier.request, &done, MPI_STATUS_IGNORE));
    }
  }

  void wait_all() override {
    for (Pending& p : pending_) {
      REMIX_MPI_CHECK(MPI_Wait(&p.request, MPI_STATUS_IGNORE));
      unpack_mean(p.buffer, p.tensors);
    }
    pending_.clear();
  }

  void sum(std::vector<double>& values) override {
    REMIX_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                                  MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
  }

  void broadcast(std::vector<uint8_t>& bytes, int root) override {
    REMIX_CHECK(root >= 0 && root < size_, "broadcast: root {} is not a rank of {}", root, size_);
    uint64_t size = bytes.size();
    REMIX_MPI_CHECK(MPI_Bcast(&size, 1, MPI_UINT64_T, root, MPI_COMM_WORLD));
    REMIX_CHECK(size <= static_cast<uint64_t>(INT32_MAX), "broadcast: {} bytes in one call", size);
    bytes.resize(size);
    REMIX_MPI_CHECK(
        MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, root, MPI_COMM_WORLD));
  }

  // The sizes first (MPI_Gather), then the bytes into one buffer at their offsets (MPI_Gatherv).
  std::vector<std::vector<uint8_t>> gather(const std::vector<uint8_t>& bytes, int root) override {
    REMIX_CHECK(root >= 0 && root < size_, "gather: root {} is not a rank of {}", root, size_);
    REMIX_CHECK(bytes.size() <= static_cast<size_t>(INT32_MAX), "gather: {} bytes in one call",
                bytes.size());
    const int size = static_cast<int>(bytes.size());
    const bool at_root = rank_ == root;
    std::vector<int> sizes(at_root ? static_cast<size_t>(size_) : 0);
    REMIX_MPI_CHECK(MPI_Gather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, root, MPI_COMM_WORLD));
    std::vector<int> offsets(sizes.size());
    int64_t total = 0;
    for (size_t r = 0; r < sizes.size(); ++r) {
      offsets[r] = static_cast<int>(total);
      total += sizes[r];
      REMIX_CHECK(total <= INT32_MAX, "gather: more than {} bytes in all", INT32_MAX);
    }
    std::vector<uint8_t> all(static_cast<size_t>(total));
    REMIX_MPI_CHECK(MPI_Gatherv(bytes.data(), size, MPI_BYTE, all.data(), sizes.data(),
                                offsets.data(), MPI_BYTE, root, MPI_COMM_WORLD));
    std::vector<std::vector<uint8_t>> parts;
    for (size_t r = 0; r < sizes.size(); ++r)
      parts.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + sizes[r]);
    return parts;
  }

  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "rank %d of %d: %s\n", rank_, size_, message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);  // mpirun then ends every other rank
    std::_Exit(1);
  }

 private:
  // The tensors, one after the other, in one f32 buffer.
  static void pack(const std::vector<Tensor>& tensors, std::vector<float>& buffer) {
    size_t total = 0;
    for (const Tensor& t : tensors) {
      REMIX_CHECK(!t.device().is_cuda() && t.dtype() == DType::f32,
                  "MPI average: expected f32 CPU tensors, got a {} tensor on {} (CUDA tensors "
                  "are reduced by NCCL)",
                  dtype_name(t.dtype()), to_string(t.device()));
      total += static_cast<size_t>(t.numel());
    }
    REMIX_CHECK(total <= static_cast<size_t>(INT32_MAX), "MPI average: {} elements in one call",
                total);
    buffer.resize(total);
    size_t at = 0;
    for (const Tensor& t : tensors) {
      std::memcpy(buffer.data() + at, t.raw_data(), t.nbytes());
      at += static_cast<size_t>(t.numel());
    }
  }

  // The summed buffer back into the tensors, divided by the world size.
  void unpack_mean(const std::vector<float>& buffer, std::vector<Tensor>& tensors) const {
    const float scale = 1.0f / static_cast<float>(size_);
    size_t at = 0;
    for (Tensor& t : tensors) {
      float* values = static_cast<float*>(t.raw_data());
      for (int64_t i = 0; i < t.numel(); ++i)
        values[i] = buffer[at + static_cast<size_t>(i)] * scale;
      at += static_cast<size_t>(t.numel());
    }
  }

  // An average started and not yet waited for.
  struct Pending {
    std::vector<Tensor> tensors;
    std::vector<float> buffer;
    MPI_Request request = MPI_REQUEST_NULL;
  };

  int rank_ = 0, size_ = 1, local_rank_ = 0;
  std::vector<float> buffer_;
  std::deque<Pending> pending_;  // a deque: a started buffer never moves
};

}  // namespace

std::shared_ptr<Communicator> world_communicator() {
  // MPI may be initialised only once per process: every caller shares one communicator.
  static std::mutex mutex;
  static std::weak_ptr<Communicator> existing;
  const std::lock_guard lock(mutex);
  if (std::shared_ptr<Communicator> communicator = existing.lock()) return communicator;
  if (launch_environment().world_size <= 1) return single_process_communicator();
  int finalized = 0;
  MPI_Finalized(&finalized);
  REMIX_CHECK(!finalized, "MPI was already finalised: keep the communicator for the whole run");
  std::shared_ptr<Communicator> communicator = std::make_shared<MpiCommunicator>();
  existing = communicator;
  return communicator;
}

bool built_with_mpi() {
  return true;
}

}  // namespace remix::dist
