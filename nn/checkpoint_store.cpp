// Checkpoint units, the links that name them, and their clean-up (see checkpoint_store.h).
#include "nn/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace remix::nn {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUnitsFolder = "checkpoints";
constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kUnitPrefix = "step-";
constexpr const char* kUnfinished = ".tmp";

// Flushes a folder's entries (a rename, a new file) to disk, as fsync does for a file's data.
void sync_directory(const fs::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  REMIX_CHECK(fd >= 0, "cannot open {}: {}", directory.string(), std::strerror(errno));
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  REMIX_CHECK(synced, "cannot flush {} to disk: {}", directory.string(), std::strerror(error));
}

std::string unit_name(int64_t step) {
  return fmt::format("{}{:08}", kUnitPrefix, step);
}

// The step of a unit folder called step-N, if `name` is one.
std::optional<int64_t> step_of_unit_name(const std::string& name) {
  if (!name.starts_with(kUnitPrefix)) return std::nullopt;
  const char* first = name.data() + std::strlen(kUnitPrefix);
  const char* last = name.data() + name.size();
  int64_t step = -1;
  const auto [end, error] = std::from_chars(first, last, step);
  if (error != std::errc() || end != last || first == last || step < 0) return std::nullopt;
  return step;
}

}  // namespace

CheckpointStore::CheckpointStore(fs::path run_directory)
    : run_(std::move(run_directory)), units_(run_ / kUnitsFolder) {}

fs::path CheckpointStore::unit_path(int64_t step) const {
  return units_ / unit_name(step);
}

fs::path CheckpointStore::model_path(int64_t step) const {
  return unit_path(step) / kModelFile;
}

fs::path CheckpointStore::link_path(const std::string& name) const {
  return run_ / (name + ".safetensors");
}

fs::path CheckpointStore::write(const Module& model, const Optimizer& optimizer,
                                const TrainingProgress& progress) const {
  const fs::path unit = unit_path(progress.step);
  const fs::path model_file = unit / kModelFile;
  if (fs::exists(model_file) && fs::exists(state_path_for(model_file.string()))) return model_file;
  fs::path unfinished = unit;
  unfinished += kUnfinished;
  fs::remove_all(unfinished);  // left by a save that was killed
  fs::create_directories(unfinished);
  save_checkpoint((unfinished / kModelFile).string(), model, optimizer, progress);
  sync_directory(unfinished);
  fs::remove_all(unit);  // an incomplete unit of this step (its files deleted by hand)
  fs::rename(unfinished, unit);
  sync_directory(units_);
  return model_file;
}

void CheckpointStore::link(const std::string& name, int64_t step) const {
  REMIX_CHECK(fs::exists(model_path(step)), "cannot link {} to {}: it does not exist",
              link_path(name).string(), model_path(step).string());
  fs::path fresh = link_path(name);
  fresh += kUnfinished;
  fs::remove(fresh);
  // Relative, so that the run directory can be moved or copied as a whole.
  fs::create_symlink(fs::path(kUnitsFolder) / unit_name(step) / kModelFile, fresh);
  fs::rename(fresh, link_path(name));
  sync_directory(run_);
}

void CheckpointStore::unlink(const std::string& name) const {
  fs::remove(link_path(name));
}

std::optional<int64_t> CheckpointStore::linked_step(const std::string& name) const {
  std::error_code error;
  const fs::path target = fs::read_symlink(link_path(name), error);
  if (error) return std::nullopt;
  const fs::path unit = target.parent_path();
  if (target.filename() != kModelFile || unit.parent_path() != kUnitsFolder) return std::nullopt;
  return step_of_unit_name(unit.filename().string());
}

void CheckpointStore::remove_unlinked() const {
  if (!fs::is_directory(units_)) return;
  const std::optional<int64_t> last = linked_step("last"), best = linked_step("best");
  for (const fs::directory_entry& entry : fs::directory_iterator(units_)) {
    const std::string name = entry.path().filename().string();
    const bool unfinished = name.ends_with(kUnfinished);
    const std::optional<int64_t> step = step_of_unit_name(
        unfinished ? name.substr(0, name.size() - std::strlen(kUnfinished)) : name);
    if (!step) continue;  // not a unit: not ours to delete
    if (unfinished || (step != last && step != best)) fs::remove_all(entry.path());
  }
}

std::vector<int64_t> CheckpointStore::complete_steps() const {
  std::vector<int64_t> steps;
  if (!fs::is_directory(units_)) return steps;
  for (const fs::directory_entry& entry : fs::directory_iterator(units_)) {
    const std::optional<int64_t> step = step_of_unit_name(entry.path().filename().string());
    if (step && fs::exists(model_path(*step)) &&
        fs::exists(state_path_for(model_path(*step).string())))
      steps.push_back(*step);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::optional<fs::path> CheckpointStore::newest_complete() const {
  const std::vector<int64_t> steps = complete_steps();
  if (steps.empty()) return std::nullopt;
  return model_path(steps.back());
}

fs::path CheckpointStore::run_directory_of(const fs::path& checkpoint) {
  const fs::path folder = checkpoint.parent_path();
  const bool in_unit = step_of_unit_name(folder.filename().string()).has_value() &&
                       folder.parent_path().filename() == kUnitsFolder;
  const fs::path run = in_unit ? folder.parent_path().parent_path() : folder;
  return run.empty() ? fs::path(".") : run;
}

}  // namespace remix::nn
