// Communicator: the collectives data-parallel training needs, over the processes of one job.
//
// Every process ("rank", 0 .. world_size-1) holds a replica of the model and trains on its own
// shard of each epoch; after backward the gradients are averaged across ranks, so every replica
// takes the same optimizer step. Implementations:
//   - single process (dist/single_process.cpp): world size 1, every collective is the identity;
//     used when the program was not started by an MPI launcher, or was built without MPI;
//   - MPI (dist/mpi_communicator.cpp): CPU tensors and host values, MPI_Allreduce in place;
//   - NCCL (dist/nccl_communicator.cpp): CUDA tensors with NCCL, host values over MPI; NCCL's
//     unique id is broadcast over MPI. Built only with the CUDA backend, MPI and NCCL.
//
// Collectives must be called by every rank in the same order with the same shapes, or the job
// deadlocks: callers take every control decision (stop, divergence, end of epoch) from reduced
// values, which are equal on all ranks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace remix::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // The rank among the processes of this machine (picks the GPU: cuda:<local rank>).
  virtual int local_rank() const = 0;

  // Replaces each tensor by its element-wise mean over the ranks: (sum over ranks) / world_size.
  // The tensors may differ in shape and dtype (f32, f16, bf16) but share one device; the call
  // may return before the reduction is done on the device (NCCL queues it on the device's
  // stream, where later work waits for it).
  virtual void average(std::vector<Tensor>& tensors) = 0;
  // The same, started now and finished by wait_all(), so that the reduction runs while the
  // caller goes on (backward computing the next bucket's gradients): MPI_Iallreduce on CPUs,
  // NCCL on a side stream on GPUs. The tensors must not be read or written until wait_all()
  // returns. The default reduces at once (a single process has nothing to overlap).
  virtual void start_average(std::vector<Tensor> tensors) { average(tensors); }
  // Completes every average started since the last call (on GPUs: later work on the device's
  // stream waits for them; the host does not).
  virtual void wait_all() {}
  // Replaces each value by its sum over the ranks (in double precision, on the host).
  virtual void sum(std::vector<double>& values) = 0;
  // Replaces `bytes` on every rank by rank `root`'s bytes (sizes may differ before the call).
  virtual void broadcast(std::vector<uint8_t>& bytes, int root) = 0;
  // Every rank's `bytes` (sizes may differ), in rank order, on rank `root`; empty on the others.
  virtual std::vector<std::vector<uint8_t>> gather(const std::vector<uint8_t>& bytes, int root) = 0;
  // Ends every rank of the job, printing `message` first; never returns.
  [[noreturn]] virtual void abort(const std::string& message) = 0;

  bool is_root() const { return rank() == 0; }
};

// The process's rank and the job's size as an MPI launcher (mpirun of Open MPI or MPICH)
// announces them in the environment; world_size 1 when not launched by one.
struct LaunchEnvironment {
  int rank = 0, world_size = 1, local_rank = 0;
};
LaunchEnvironment launch_environment();

std::shared_ptr<Communicator> single_process_communicator();

// The job's communicator for host values and CPU tensors: MPI when this process was started by
// an MPI launcher with more than one process (MPI_Init happens here, once), else the single
// process one (MPI is never initialised). A build without MPI raises remix::Error when launched
// as one of several processes.
std::shared_ptr<Communicator> world_communicator();

// The communicator for gradients on `device`: `host` itself for the CPU or a single process;
// for CUDA with several processes one that runs NCCL on the device's stream and delegates host
// values to `host` (a remix::Error in a build without NCCL).
std::shared_ptr<Communicator> communicator_for_device(std::shared_ptr<Communicator> host,
                                                      Device device);

// True when this build has MPI (REMIX_DISTRIBUTED found it) / NCCL.
bool built_with_mpi();
bool built_with_nccl();

}  // namespace remix::dist
