// Compiled instead of dist/mpi_communicator.cpp when remix is built without MPI
// (REMIX_DISTRIBUTED=OFF, or AUTO without MPI found): every run is a single process.
#include "dist/communicator.h"
#include "tensor/check.h"

namespace remix::dist {

std::shared_ptr<Communicator> world_communicator() {
  const LaunchEnvironment env = launch_environment();
  REMIX_CHECK(env.world_size <= 1,
              "this process was started as rank {} of {} by an MPI launcher, but this build of "
              "remix has no MPI: install libopenmpi-dev and reconfigure with "
              "-DREMIX_DISTRIBUTED=ON, or start a single process without mpirun",
              env.rank, env.world_size);
  return single_process_communicator();
}

bool built_with_mpi() {
  return false;
}

}  // namespace remix::dist
