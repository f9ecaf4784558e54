// The trainer's part in data-parallel runs (see trainer.h): the values and decisions every rank
// must share, so that N ranks train as one.
#include "apps/trainer.h"

namespace remix::app {

std::array<double, 4> Trainer::global_sums() const {
  std::vector<double> sums = {sums_.loss.item(), sums_.correct.item(),
                              static_cast<double>(sums_.images),
                              static_cast<double>(session_images_)};
  comm_->sum(sums);
  return {sums[0], sums[1], sums[2], sums[3]};
}

// Rank 0's display redraws on a clock on a terminal: its choice is everyone's, so that all
// ranks join the collective of show_progress.
bool Trainer::root_decides(bool root_choice) const {
  if (comm_->world_size() == 1) return root_choice;
  std::vector<double> choice = {comm_->is_root() && root_choice ? 1.0 : 0.0};
  comm_->sum(choice);
  return choice[0] > 0;
}

bool Trainer::stop_requested_on_any_rank() const {
  std::vector<double> stop = {hooks_.stop_requested && hooks_.stop_requested() ? 1.0 : 0.0};
  comm_->sum(stop);
  return stop[0] > 0;
}

// A rank other than 0 returns from save() while rank 0 may still be writing the checkpoint; a
// trainer of the same process that resumes from it must not read before rank 0 is done. Rank 0
// reaches this collective only after its own saves have returned.
void Trainer::wait_until_rank_0_is_ready_to_read() const {
  std::vector<double> ready = {0};
  comm_->sum(ready);
}

// All ranks must continue from one step, or their collectives stop matching. With s_r the step
// rank r loaded, they agree exactly when the steps have no variance: N * sum(s_r^2) = (sum s_r)^2,
// a test every rank evaluates on the same sums, so they throw together or not at all.
void Trainer::check_every_rank_loaded_step(int64_t step, const std::string& checkpoint_path) const {
  const auto s = static_cast<double>(step);
  std::vector<double> sums = {s, s * s};
  comm_->sum(sums);
  const auto n = static_cast<double>(comm_->world_size());
  REMIX_CHECK(n * sums[1] == sums[0] * sums[0],
              "{}: the ranks loaded checkpoints of different steps (this rank step {}, their mean "
              "{}); every rank must read the same checkpoint, on a file system they all share",
              checkpoint_path, step, sums[0] / n);
}

// Rank 0's running sums become the sums over all ranks, the others' zero: what rank 0 saves
// then resumes the epoch's metrics exactly (resume() zeroes them on the other ranks again).
void Trainer::keep_global_sums_on_rank_0(const std::array<double, 4>& sums) {
  if (comm_->world_size() == 1) return;
  const bool root = comm_->is_root();
  const Device device = input_.device();
  sums_ = {Tensor::full({1}, root ? sums[0] : 0.0, DType::f32, device),
           Tensor::full({1}, root ? sums[1] : 0.0, DType::f32, device),
           root ? static_cast<int64_t>(sums[2]) : 0};
}

// Per-rank batch norm (as PyTorch DDP) leaves each rank its own running statistics; their mean
// is what rank 0 saves and every rank evaluates.
void Trainer::average_batch_norm_statistics() {
  if (comm_->world_size() == 1) return;
  std::vector<Tensor> buffers;
  for (auto& [name, buffer] : model_->named_buffers())
    if (buffer.dtype() == DType::f32) buffers.push_back(buffer);
  if (!buffers.empty()) comm_->average(buffers);
}

// Ranks 1..N-1 send rank 0 their augmentation state (RecursiveMix's history: each rank pastes
// its own previous batch), as tensors named augment_rank<r>.<name> on rank 0; empty elsewhere.
// The states match in names and shapes: every rank runs the same steps with equal batches.
nn::NamedTensors Trainer::other_ranks_augmentation_states() const {
  if (comm_->world_size() == 1) return {};
  const nn::NamedTensors own = augmentation_->state();
  std::vector<uint8_t> bytes;
  for (const auto& [name, tensor] : own) {
    const size_t at = bytes.size();
    bytes.resize(at + tensor.nbytes());
    copy_tensor_to_host(tensor, bytes.data() + at, tensor.nbytes());
  }
  const std::vector<std::vector<uint8_t>> all = comm_->gather(bytes, 0);
  nn::NamedTensors states;
  for (size_t rank = 1; rank < all.size(); ++rank) {
    REMIX_CHECK(all[rank].size() == bytes.size(),
                "rank {}'s augmentation state has {} bytes and rank 0's {}: the ranks should hold "
                "histories of the same shapes",
                rank, all[rank].size(), bytes.size());
    size_t at = 0;
    for (const auto& [name, tensor] : own) {
      Tensor copy = Tensor::empty(tensor.shape(), tensor.dtype(), Device::cpu());
      copy_host_to_tensor(all[rank].data() + at, copy.nbytes(), copy);
      at += copy.nbytes();
      states.emplace_back(fmt::format("augment_rank{}.{}", rank, name), std::move(copy));
    }
  }
  return states;
}

}  // namespace remix::app
