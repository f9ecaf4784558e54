// Compiled instead of dist/nccl_communicator.cpp when the build lacks the CUDA backend, MPI or
// NCCL: gradients of several processes can then only be reduced on the CPU.
#include "dist/communicator.h"
#include "tensor/check.h"

namespace remix::dist {

std::shared_ptr<Communicator> communicator_for_device(std::shared_ptr<Communicator> host,
                                                      Device device) {
  REMIX_CHECK(!device.is_cuda() || host->world_size() == 1,
              "training on {} with {} processes needs NCCL, and this build of remix has none "
              "(it needs the CUDA backend, MPI and NCCL): use --device cpu or one process",
              to_string(device), host->world_size());
  return host;
}

bool built_with_nccl() {
  return false;
}

}  // namespace remix::dist
