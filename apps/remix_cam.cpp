// remix-cam: class-activation maps of a trained model over test images, as a PNG grid.
//
//   remix-cam runs/rm/best.safetensors --images 8 -o cam.png
//   remix-cam runs/cutmix/best.safetensors --compare runs/rm/best.safetensors
//
// The model and the data come from the run's config.json beside the checkpoint (--data and
// --device override them); the first K images of the test split are drawn, each with its true
// class, then one row per checkpoint: the map of the predicted class over the image (apps/cam.h)
// and that class, green when right and red when wrong.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "apps/cam.h"
#include "apps/data_source.h"
#include "apps/input_pipeline.h"
#include "apps/setup.h"
#include "nn/checkpoint.h"
#include "nn/checkpoint_store.h"

using namespace remix;
using namespace remix::app;

namespace {

struct CamOptions {
  std::string checkpoint, compare, data, device, output = "cam.png";
  int64_t images = 8;
  int scale = 4;
};

TrainConfig config_of(const std::string& checkpoint, const CamOptions& o) {
  const auto path = nn::CheckpointStore::run_directory_of(checkpoint) / "config.json";
  REMIX_CHECK(std::filesystem::is_regular_file(path),
              "{}: no config.json in its run folder {} (expected a checkpoint written by "
              "remix-train, whose config names the model)",
              checkpoint, path.parent_path().string());
  TrainConfig config = read_config_file(path.string());
  if (!o.data.empty()) config.data = o.data;
  if (!o.device.empty()) config.device = o.device;
  resolve_config(config);
  return config;
}

// The maps of one checkpoint over `images` (all of them in one batch, prepared as the test set
// is for that run's device and precision).
CamRow cam_row(const std::string& checkpoint, const CamOptions& o, const data::Dataset& images) {
  const TrainConfig config = config_of(checkpoint, o);
  const std::shared_ptr<nn::Classifier> model = build_model(config, images.num_classes);
  nn::load_model(checkpoint, *model);
  model->eval();
  const InputPipeline input(config_device(config), compute_dtype(config), false);
  data::DataLoader loader(images, input.loader_options(false, images.size(), 0, 1));
  loader.start_epoch(0);
  const std::optional<data::Batch> batch = loader.next();
  REMIX_CHECK(batch.has_value(), "remix-cam: no test image to draw");
  return {config.model + "/" + config.aug,
          class_activation_maps(*model, input.images(*batch, false))};
}

int run(const CamOptions& o) {
  const TrainConfig config = config_of(o.checkpoint, o);
  set_compute_threads(config.compute_threads);
  const data::Dataset test = load_test_data(config);
  const int64_t n = std::min(o.images, test.size());
  const int64_t h = test.images.size(1), w = test.images.size(2);
  REMIX_CHECK(test.images.size(3) == 3, "remix-cam: expected RGB images, got {} channels",
              test.images.size(3));
  const std::vector<uint8_t> all = test.images.to_vector<uint8_t>();
  const std::vector<int32_t> all_labels = test.labels.to_vector<int32_t>();
  const std::vector<uint8_t> pixels(all.begin(), all.begin() + n * h * w * 3);
  const std::vector<int32_t> labels(all_labels.begin(), all_labels.begin() + n);
  const data::Dataset first = {Tensor::from_vector(pixels, {n, h, w, 3}),
                               Tensor::from_vector(labels, {n}), test.num_classes,
                               test.class_names};
  std::vector<CamRow> rows = {cam_row(o.checkpoint, o, first)};
  if (!o.compare.empty()) rows.push_back(cam_row(o.compare, o, first));
  draw_cam_grid(pixels, n, h, w, labels, test.class_names, rows, o.scale).save_png(o.output);
  fmt::print("wrote {} ({} images, {} model{})\n", o.output, n, rows.size(),
             rows.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"remix-cam: class-activation maps of a trained model over test images (PNG)"};
  CamOptions o;
  app.add_option("CHECKPOINT", o.checkpoint, "A model checkpoint of a remix-train run")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--compare", o.compare, "A second checkpoint: one more row per image")
      ->check(CLI::ExistingFile);
  app.add_option("--data", o.data, "Dataset (default: the run's), as remix-train --data");
  app.add_option("--device", o.device, "cpu | cuda | cuda:N | auto (default: the run's)");
  app.add_option("--images", o.images, "Test images to draw, the first K of the test split")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--scale", o.scale, "Enlargement of each image")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("-o,--output", o.output, "The PNG file to write")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "remix-cam: error: {}\n", e.what());
    return 1;
  }
}
