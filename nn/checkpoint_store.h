// CheckpointStore: the checkpoints of a training run on disk, each one a consistent unit that a
// kill at any instant (kill -9, power loss) leaves either whole or absent.
//
//   RUN/checkpoints/step-00001200/model.safetensors        the model: a PyTorch state_dict
//   RUN/checkpoints/step-00001200/model.state.safetensors  optimizer, position, best accuracy
//   RUN/last.safetensors -> checkpoints/step-00001200/model.safetensors   (symbolic links)
//   RUN/best.safetensors -> checkpoints/step-00000800/model.safetensors
//
// A unit is the pair of files of one optimizer step (save_checkpoint in checkpoint.h). Writing
// one puts both files into step-N.tmp/, flushes them to disk and renames the folder to step-N:
// that rename is the instant the unit exists, whole. A link is switched by renaming a new link
// over the old one. A trainer writes the unit, then switches `best` (when the step is a new
// best), then `last`, then deletes the units neither link names: `best` is never older than
// what `last`'s progress calls the best. A kill leaves at worst a step-N.tmp folder (never
// read, deleted later) or a complete unit no link names yet, which newest_complete() finds:
// resuming loses nothing that was saved.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nn/checkpoint.h"

namespace remix::nn {

class CheckpointStore {
 public:
  explicit CheckpointStore(std::filesystem::path run_directory);

  // Writes the unit of progress.step and returns its model file. A complete unit of that step
  // is kept as it is: a step has one state, and the unit may be what a link names.
  std::filesystem::path write(const Module& model, const Optimizer& optimizer,
                              const TrainingProgress& progress) const;
  // Points RUN/<name>.safetensors at the unit of `step` (which must exist), atomically.
  void link(const std::string& name, int64_t step) const;
  // Removes RUN/<name>.safetensors.
  void unlink(const std::string& name) const;
  // The step of the unit RUN/<name>.safetensors names, if it is such a link.
  std::optional<int64_t> linked_step(const std::string& name) const;
  // Deletes every unit and every unfinished step-N.tmp folder that no link names.
  void remove_unlinked() const;

  // The steps of the complete units, oldest first.
  std::vector<int64_t> complete_steps() const;
  // The model file of the newest complete unit, if there is one.
  std::optional<std::filesystem::path> newest_complete() const;

  std::filesystem::path model_path(int64_t step) const;
  std::filesystem::path link_path(const std::string& name) const;
  const std::filesystem::path& run_directory() const { return run_; }

  // The run directory a checkpoint file belongs to: RUN for RUN/last.safetensors and for
  // RUN/checkpoints/step-N/model.safetensors; else the file's own folder.
  static std::filesystem::path run_directory_of(const std::filesystem::path& checkpoint);

 private:
  std::filesystem::path unit_path(int64_t step) const;

  std::filesystem::path run_, units_;
};

}  // namespace remix::nn
