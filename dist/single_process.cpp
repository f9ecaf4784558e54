// The single-process communicator, and reading the launcher's environment (communicator.h).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "dist/communicator.h"
#include "tensor/check.h"

namespace remix::dist {

namespace {

// The first of `names` set in the environment, as a non-negative integer; -1 when none is.
int first_integer_variable(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') continue;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    REMIX_CHECK(*end == '\0' && value >= 0 && value < (1L << 24),
                "the launcher variable {}={} is not a rank or a process count", name, text);
    return static_cast<int>(value);
  }
  return -1;
}

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  void average(std::vector<Tensor>&) override {}  // the mean of one value is itself
  void sum(std::vector<double>&) override {}
  void broadcast(std::vector<uint8_t>&, int root) override {
    REMIX_CHECK(root == 0, "broadcast: root {} does not exist in a single process", root);
  }
  std::vector<std::vector<uint8_t>> gather(const std::vector<uint8_t>& bytes, int root) override {
    REMIX_CHECK(root == 0, "gather: root {} does not exist in a single process", root);
    return {bytes};
  }
  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::exit(1);
  }
};

}  // namespace

// Open MPI's mpirun sets OMPI_COMM_WORLD_*, MPICH's Hydra (and srun --mpi=pmi2) PMI_RANK and
// PMI_SIZE. Slurm's own SLURM_NTASKS is not read: a batch script sets it for every command,
// also for one started without srun.
LaunchEnvironment launch_environment() {
  LaunchEnvironment env;
  const int size = first_integer_variable({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"});
  if (size <= 1) return env;
  env.world_size = size;
  env.rank = std::max(0, first_integer_variable({"OMPI_COMM_WORLD_RANK", "PMI_RANK"}));
  env.local_rank =
      std::max(0, first_integer_variable({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"}));
  REMIX_CHECK(env.rank < env.world_size, "the launcher says rank {} of {} processes", env.rank,
              env.world_size);
  return env;
}

std::shared_ptr<Communicator> single_process_communicator() {
  return std::make_shared<SingleProcess>();
}

}  // namespace remix::dist
