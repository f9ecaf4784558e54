// remix-fuzz-seeds OUT_DIR: writes the seed corpus of every fuzz target (OUT_DIR/<target>/),
// valid inputs made by remix itself, a few KB per target. tests/fuzz/corpus holds its output;
// run it again after a format changes.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include <fmt/format.h>

#include <iterator>

#include "apps/metrics.h"
#include "apps/train_config.h"
#include "nn/checkpoint.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/small_net.h"

namespace {

using namespace remix;
namespace fs = std::filesystem;
using Bytes = std::string;

void append(void* context, void* data, int size) {
  static_cast<Bytes*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

// A width x height image of `channels` channels with a gradient, in one of stb's formats.
Bytes image(char format, int width, int height, int channels) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * channels);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37);
  Bytes out;
  if (format == 'p') stbi_write_png_to_func(append, &out, width, height, channels, pixels.data(), 0);
  if (format == 'j') stbi_write_jpg_to_func(append, &out, width, height, channels, pixels.data(), 80);
  if (format == 'b') stbi_write_bmp_to_func(append, &out, width, height, channels, pixels.data());
  return out;
}

Bytes read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes joined(const std::vector<Bytes>& parts) {
  Bytes out;
  for (size_t i = 0; i < parts.size(); ++i)
    out += (i ? Bytes(fuzz::kPartSeparator) : Bytes()) + parts[i];
  return out;
}

// One CIFAR record: `label_bytes` labels (each 1), then 3072 pixel bytes.
Bytes cifar_record(int label_bytes) {
  Bytes record(static_cast<size_t>(label_bytes), '\x01');
  for (int i = 0; i < 3072; ++i) record += static_cast<char>(i % 251);
  return record;
}

// config.json, metrics.jsonl and a checkpoint pair of SmallNet, as a run directory holds them.
Bytes run_directory(const fs::path& scratch) {
  app::TrainConfig config;
  config.epochs = 2;
  config.out = "runs/seed";
  app::EpochMetrics metrics;
  metrics.epoch = 1;
  metrics.test_top1 = 0.25;
  Generator gen(1);
  fuzz::SmallNet net(gen);
  nn::SGD sgd(net.named_parameters(), 0.1, SgdOptions{0.9, 0.0, 5e-4, false});
  nn::TrainingProgress progress;
  progress.step = 7;
  progress.info = {{"epoch", 1}, {"batch", 0}, {"best_top1", 0.25}};
  const fs::path model = scratch / "model.safetensors";
  nn::save_checkpoint(model.string(), net, sgd, progress);
  return joined({app::to_json(config).dump(1), app::to_json(metrics).dump() + "\n",
                 read_all(model), read_all(nn::state_path_for(model.string()))});
}

void write_seed(const fs::path& out, const std::string& target, const std::string& name,
                const Bytes& bytes) {
  fuzz::write_bytes(out / target / name, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: {} OUT_DIR (writes OUT_DIR/<target>/<seed>)\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1], scratch = fuzz::fresh_scratch_dir();
  const Bytes png = image('p', 5, 3, 3), jpeg = image('j', 8, 8, 3), bmp = image('b', 4, 2, 3);
  write_seed(out, "image", "rgb.png", png);
  write_seed(out, "image", "grey_alpha.png", image('p', 3, 3, 2));
  write_seed(out, "image", "rgb.jpg", jpeg);
  write_seed(out, "image", "grey.jpg", image('j', 9, 7, 1));
  write_seed(out, "image", "rgb.bmp", bmp);
  write_seed(out, "image", "rgba.bmp", image('b', 2, 3, 4));
  write_seed(out, "image_folder", "two_classes", "\x04" + joined({png, jpeg, bmp}));
  write_seed(out, "image_folder", "resized_strict", "\x07" + joined({jpeg, image('j', 8, 8, 3)}));
  write_seed(out, "cifar", "cifar10_one_record", Bytes(1, 0) + cifar_record(1));
  write_seed(out, "cifar", "cifar100_one_record", "\x01" + cifar_record(2));
  const Bytes run = run_directory(scratch);
  write_seed(out, "resume", "run_directory", run);
  write_seed(out, "safetensors", "small_net.safetensors", read_all(scratch / "model.safetensors"));
  write_seed(out, "safetensors", "small_net.state.safetensors",
             read_all(scratch / "model.state.safetensors"));
  fs::remove_all(scratch);
  return 0;
}
