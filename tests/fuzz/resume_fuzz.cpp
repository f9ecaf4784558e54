// Fuzz target: what `remix-train --resume` and `--eval-only` read from a run directory. The input,
// cut at kPartSeparator, is config.json, metrics.jsonl, and a checkpoint pair (model.safetensors,
// model.state.safetensors) for a small network with an SGD optimizer. Each file is read on its
// own (apps/train_config.h, apps/metrics.h, nn/checkpoint.h); what is accepted must be usable.
#include "apps/metrics.h"
#include "apps/train_config.h"
#include "nn/checkpoint.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/small_net.h"

namespace {

using namespace remix;
namespace fs = std::filesystem;

void read_config(const fs::path& path) {
  fuzz::allow_remix_errors([&] {
    app::TrainConfig config = app::read_config_file(path.string());
    app::resolve_config(config);
    app::config_from_json(app::to_json(config));  // what was accepted is written back and read
  });
}

void read_metrics(const fs::path& path) {
  fuzz::allow_remix_errors([&] {
    const std::vector<app::EpochMetrics> lines = app::read_metrics(path.string());
    app::truncate_metrics(path.string(), lines.empty() ? 0 : lines.front().epoch);
    fuzz::require(app::read_metrics(path.string()).size() <= lines.size(),
                  "truncating keeps a subset of the lines");
  });
}

std::vector<Shape> parameter_shapes(const nn::Module& net) {
  std::vector<Shape> shapes;
  for (const auto& [name, tensor] : net.named_parameters()) shapes.push_back(tensor.shape());
  return shapes;
}

void load_pair(const fs::path& model_path) {
  Generator gen(1);
  fuzz::SmallNet net(gen);
  nn::SGD sgd(net.named_parameters(), 0.1, SgdOptions{0.9, 0.0, 5e-4, false});
  const std::vector<Shape> shapes = parameter_shapes(net);
  fuzz::allow_remix_errors([&] {
    nn::load_checkpoint(model_path.string(), net, sgd);
    fuzz::require(parameter_shapes(net) == shapes, "loading keeps every parameter's shape");
    nn::import_model(net, nn::export_model(net), "re-exported model");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path dir = fuzz::fresh_scratch_dir();
  const std::vector<std::string_view> parts = fuzz::split_parts(data, size, 4);
  const char* names[] = {"config.json", "metrics.jsonl", "model.safetensors",
                         "model.state.safetensors"};
  for (size_t i = 0; i < parts.size(); ++i) fuzz::write_bytes(dir / names[i], parts[i]);
  read_config(dir / "config.json");
  read_metrics(dir / "metrics.jsonl");
  load_pair(dir / "model.safetensors");
  return 0;
}
