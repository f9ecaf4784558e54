// Checkpoints: models and training state in safetensors files (format in safetensors.h).
//
// The model file holds exactly PyTorch's state_dict of the same model: dotted names from the
// module tree, f32 parameters and buffers, convolution weights converted from remix's KRSC to
// PyTorch's OIHW (and back on load), BatchNorm's num_batches_tracked as an I64 scalar. So
//   model.load_state_dict(safetensors.torch.load_file("last.safetensors"), strict=True)
// works on the matching class of shared/bench/torch_reference.py.
//
// A training checkpoint adds a second file beside it, <stem>.state.safetensors, so that the model
// file stays a plain PyTorch state_dict:
//   tensors   "optimizer.<state>.<param>" (see optimizer.h) and "extra.<name>" (anything else the
//             trainer wants back, e.g. the GradScaler's state)
//   metadata  "remix.optimizer_step" (the optimizer's step count), "remix.progress" (a JSON text
//             the trainer fills: epoch, generator states, best accuracy, ...)
// Both files carry the same "remix.step" metadata; loading checks that they match, which catches
// a pair put together by hand. (A trainer keeps each pair in a folder of its own, written and
// switched into place as one unit: checkpoint_store.h.) Loading is strict: every missing or
// unexpected key and every shape or dtype mismatch is an error naming the file and the key.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/module.h"
#include "nn/optimizer.h"
#include "nn/safetensors.h"

namespace remix::nn {

// The model's state as safetensors entries (PyTorch names, OIHW conv weights).
SafetensorsFile export_model(const Module& model);
// Copies a file's entries into the model's existing tensors (they keep their device and their
// identity, so optimizers holding them stay valid). `origin` names the file in errors.
void import_model(Module& model, const SafetensorsFile& file, const std::string& origin);

void save_model(const std::string& path, const Module& model,
                const std::map<std::string, std::string>& metadata = {});
void load_model(const std::string& path, Module& model);

// "runs/a/last.safetensors" -> "runs/a/last.state.safetensors".
std::string state_path_for(const std::string& model_path);

struct TrainingProgress {
  int64_t step = 0;                                // "remix.step" in both files
  nlohmann::json info = nlohmann::json::object();  // "remix.progress"
  NamedTensors extra;                              // "extra.<name>" tensors (loaded on the CPU)
};

// Writes the model file and its state file (each atomically).
void save_checkpoint(const std::string& model_path, const Module& model, const Optimizer& optimizer,
                     const TrainingProgress& progress);
// Restores the model and the optimizer and returns the saved progress. A symbolic link to a
// model file (RUN/last.safetensors, see checkpoint_store.h) is followed first.
TrainingProgress load_checkpoint(const std::string& model_path, Module& model,
                                 Optimizer& optimizer);

}  // namespace remix::nn
