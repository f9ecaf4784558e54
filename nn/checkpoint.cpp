// Model export/import with PyTorch names and layouts, and two-file training checkpoints
// (see checkpoint.h).
#include "nn/checkpoint.h"

#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>

#include "nn/conv.h"
#include "nn/json_guard.h"

namespace remix::nn {

namespace {

// PyTorch stores convolution weights O x I x H x W; remix K x R x S x C (the same O = K, I = C).
Shape krsc_to_oihw(const Shape& s) {
  return {s[0], s[3], s[1], s[2]};
}

// Reorders the bytes of a K x R x S x C array into K x C x R x S (or back with `to_oihw` false).
std::vector<uint8_t> permute_conv_weight(const std::vector<uint8_t>& in, const Shape& krsc,
                                         size_t element_size, bool to_oihw) {
  const int64_t K = krsc[0], R = krsc[1], S = krsc[2], C = krsc[3];
  std::vector<uint8_t> out(in.size());
  for (int64_t k = 0; k < K; ++k)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t krsc_index = ((k * R + r) * S + s) * C + c;
          const int64_t oihw_index = ((k * C + c) * R + r) * S + s;
          const int64_t from = to_oihw ? krsc_index : oihw_index;
          const int64_t to = to_oihw ? oihw_index : krsc_index;
          std::memcpy(&out[to * element_size], &in[from * element_size], element_size);
        }
  return out;
}

bool is_conv_weight(const Module& module, const std::string& name) {
  return name == "weight" && dynamic_cast<const Conv2d*>(&module) != nullptr;
}

std::string join(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return name.empty() ? prefix : prefix + "." + name;
}

// Where one entry of a model's state goes when loading.
struct Slot {
  Tensor tensor;  // a parameter or buffer (a handle sharing its memory)
  bool conv_weight = false;
  int64_t* counter = nullptr;  // or a host counter
};

std::vector<std::pair<std::string, Slot>> model_slots(Module& model) {
  std::vector<std::pair<std::string, Slot>> slots;
  for (const auto& [prefix, module] : model.named_modules()) {
    for (const auto& [name, tensor] : module->own_parameters())
      slots.push_back({join(prefix, name), {*tensor, is_conv_weight(*module, name), nullptr}});
    for (const auto& [name, tensor] : module->own_buffers())
      slots.push_back({join(prefix, name), {*tensor, false, nullptr}});
    for (const auto& [name, counter] : module->own_counters())
      slots.push_back({join(prefix, name), {Tensor(), false, counter}});
  }
  return slots;
}

void load_slot(Slot& slot, const SafetensorsEntry& entry, const std::string& origin) {
  if (slot.counter != nullptr) {
    *slot.counter = i64_scalar_value(entry, origin);
    return;
  }
  const Tensor expected = slot.tensor;
  const Shape file_shape = slot.conv_weight ? krsc_to_oihw(expected.shape()) : expected.shape();
  const SafetensorsDType file_dtype = safetensors_dtype_of(expected.dtype());
  REMIX_CHECK(entry.dtype == file_dtype && entry.shape == file_shape,
              "{}: tensor '{}' is {} {}, the model expects {} {}", origin, entry.name,
              safetensors_dtype_name(entry.dtype), to_string(entry.shape),
              safetensors_dtype_name(file_dtype), to_string(file_shape));
  const std::vector<uint8_t> bytes =
      slot.conv_weight
          ? permute_conv_weight(entry.data, expected.shape(), element_size(expected.dtype()), false)
          : entry.data;
  copy_host_to_tensor(bytes.data(), bytes.size(), slot.tensor);
}

int64_t parse_int(const std::map<std::string, std::string>& metadata, const std::string& key,
                  const std::string& origin) {
  const auto it = metadata.find(key);
  REMIX_CHECK(it != metadata.end(), "{}: metadata '{}' is missing (not a remix checkpoint?)",
              origin, key);
  int64_t value = 0;
  const auto [end, error] =
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  REMIX_CHECK(error == std::errc() && end == it->second.data() + it->second.size(),
              "{}: metadata '{}' should be an integer, got '{}'", origin, key, it->second);
  return value;
}

}  // namespace

SafetensorsFile export_model(const Module& model) {
  SafetensorsFile file;
  for (const auto& [name, slot] : model_slots(const_cast<Module&>(model))) {
    if (slot.counter != nullptr) {
      file.tensors.push_back(i64_scalar_entry(name, *slot.counter));
      continue;
    }
    SafetensorsEntry entry = entry_from_tensor(name, slot.tensor);
    if (slot.conv_weight) {
      entry.data =
          permute_conv_weight(entry.data, entry.shape, safetensors_element_size(entry.dtype), true);
      entry.shape = krsc_to_oihw(entry.shape);
    }
    file.tensors.push_back(std::move(entry));
  }
  return file;
}

void import_model(Module& model, const SafetensorsFile& file, const std::string& origin) {
  auto slots = model_slots(model);
  std::set<std::string> expected;
  std::vector<std::string> missing, unexpected;
  for (const auto& [name, slot] : slots) {
    expected.insert(name);
    if (file.find(name) == nullptr) missing.push_back(name);
  }
  for (const auto& entry : file.tensors)
    if (!expected.count(entry.name)) unexpected.push_back(entry.name);
  REMIX_CHECK(missing.empty() && unexpected.empty(),
              "{}: does not match the model: missing keys [{}], unexpected keys [{}]", origin,
              fmt::join(missing, ", "), fmt::join(unexpected, ", "));
  for (auto& [name, slot] : slots) load_slot(slot, *file.find(name), origin);
}

void save_model(const std::string& path, const Module& model,
                const std::map<std::string, std::string>& metadata) {
  SafetensorsFile file = export_model(model);
  file.metadata = metadata;
  write_safetensors(path, file);
}

void load_model(const std::string& path, Module& model) {
  import_model(model, read_safetensors(path), path);
}

std::string state_path_for(const std::string& model_path) {
  const std::string suffix = ".safetensors";
  const bool has_suffix =
      model_path.size() > suffix.size() &&
      model_path.compare(model_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  const std::string stem =
      has_suffix ? model_path.substr(0, model_path.size() - suffix.size()) : model_path;
  return stem + ".state" + suffix;
}

void save_checkpoint(const std::string& model_path, const Module& model, const Optimizer& optimizer,
                     const TrainingProgress& progress) {
  const std::string step = std::to_string(progress.step);
  SafetensorsFile state;
  const OptimizerState optimizer_state = optimizer.state_dict();
  for (const auto& [name, tensor] : optimizer_state.tensors)
    state.tensors.push_back(entry_from_tensor("optimizer." + name, tensor));
  for (const auto& [name, tensor] : progress.extra)
    state.tensors.push_back(entry_from_tensor("extra." + name, tensor));
  state.metadata = {{"remix.step", step},
                    {"remix.optimizer_step", std::to_string(optimizer_state.step)},
                    {"remix.progress", progress.info.dump()}};
  // The state first: a crash before the model's rename leaves steps that disagree, which
  // load_checkpoint reports, rather than a new model with an old optimizer silently.
  write_safetensors(state_path_for(model_path), state);
  save_model(model_path, model, {{"remix.step", step}});
}

TrainingProgress load_checkpoint(const std::string& link_or_file, Module& model,
                                 Optimizer& optimizer) {
  // A link (RUN/last.safetensors) stands for the file it names, beside which the state is.
  std::error_code unresolved;
  const std::filesystem::path resolved = std::filesystem::canonical(link_or_file, unresolved);
  const std::string model_path = unresolved ? link_or_file : resolved.string();
  const std::string state_path = state_path_for(model_path);
  const SafetensorsFile model_file = read_safetensors(model_path);
  const SafetensorsFile state_file = read_safetensors(state_path);
  TrainingProgress progress;
  progress.step = parse_int(model_file.metadata, "remix.step", model_path);
  const int64_t state_step = parse_int(state_file.metadata, "remix.step", state_path);
  REMIX_CHECK(progress.step == state_step,
              "{} is at step {} but {} is at step {}: the pair does not belong together (an "
              "interrupted save?)",
              model_path, progress.step, state_path, state_step);

  OptimizerState optimizer_state;
  optimizer_state.step = parse_int(state_file.metadata, "remix.optimizer_step", state_path);
  for (const auto& entry : state_file.tensors) {
    if (entry.name.starts_with("optimizer.")) {
      optimizer_state.tensors.emplace_back(entry.name.substr(10),
                                           tensor_from_entry(entry, state_path));
    } else if (entry.name.starts_with("extra.")) {
      progress.extra.emplace_back(entry.name.substr(6), tensor_from_entry(entry, state_path));
    } else {
      throw_error(fmt::format("{}: unexpected tensor '{}' (expected optimizer.* or extra.*)",
                              state_path, entry.name));
    }
  }
  const auto info = state_file.metadata.find("remix.progress");
  REMIX_CHECK(info != state_file.metadata.end(), "{}: metadata 'remix.progress' is missing",
              state_path);
  progress.info = parse_json(info->second, state_path + ": metadata 'remix.progress'");
  import_model(model, model_file, model_path);
  try {
    optimizer.load_state_dict(optimizer_state);
  } catch (const Error& e) {
    throw_error(fmt::format("{}: {}", state_path, e.what()));
  }
  return progress;
}

}  // namespace remix::nn
