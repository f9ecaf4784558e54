// An augmentation written outside remix's tree, registered at run time and trained with through
// remix's own training loop (apps/trainer.h), exactly as the built-in ones are.
//
// "quadrant-drop": every image loses one of its four quadrants, chosen at random, which is set to
// 0 (the dataset's mean colour, since images arrive normalised). The targets do not change: like
// Cutout, it hides part of the object without mixing images.
//
//   custom-augmentation OUT_DIR     trains ResNet-20 for one epoch on 512 synthetic images
#include <fmt/format.h>

#include <memory>

#include "apps/train_config.h"
#include "apps/trainer.h"
#include "augment/registry.h"
#include "tensor/primitives.h"

using namespace remix;

class QuadrantDrop : public augment::BatchAugmentation {
 public:
  explicit QuadrantDrop(int64_t num_classes) : num_classes_(num_classes) {}

  std::string name() const override { return "quadrant-drop"; }

  augment::MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen) override {
    augment::check_batch(images, targets, num_classes_, "quadrant-drop");
    const int64_t n = images.size(0), h = images.size(1), w = images.size(2);
    std::vector<int32_t> boxes;  // x1, y1, x2, y2 per image, in pixels (x2, y2 excluded)
    for (int64_t i = 0; i < n; ++i) {
      const int64_t q = gen.randint(4);
      const int64_t x1 = (q % 2) * (w / 2), y1 = (q / 2) * (h / 2);
      for (int64_t v : {x1, y1, q % 2 ? w : w / 2, q / 2 ? h : h / 2})
        boxes.push_back(static_cast<int32_t>(v));
    }
    augment::MixedBatch out = augment::unmixed(images.clone(), targets);
    prim::fill_box(Tensor::from_vector(boxes, {n, 4}, images.device()), 0.0, out.images);
    out.lam = 0.75;  // the share of each image kept
    return out;
  }

 private:
  int64_t num_classes_;
};

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: {} OUT_DIR (a folder that does not hold a run yet)\n", argv[0]);
    return 2;
  }
  augment::register_augmentation(
      {"quadrant-drop", "one random quadrant of each image set to the mean colour",
       [](const augment::AugmentOptions& o) -> std::unique_ptr<augment::BatchAugmentation> {
         return std::make_unique<QuadrantDrop>(o.num_classes);
       }});
  try {
    app::TrainConfig config;
    config.model = "resnet20";
    config.data = "synthetic";
    config.synthetic_train = 512;
    config.synthetic_test = 128;
    config.batch_size = 64;
    config.epochs = 1;
    config.aug = "quadrant-drop";  // checked against the registry, which now knows it
    config.device = "cpu";
    config.out = argv[1];
    app::resolve_config(config);
    app::Trainer trainer(config, app::TrainerHooks{});
    const app::TrainResult result = trainer.run();
    if (result.outcome != app::TrainOutcome::finished || result.epochs.empty()) {
      fmt::print(stderr, "quadrant-drop: training did not finish: {}\n", result.message);
      return 1;
    }
    fmt::print("quadrant-drop: 1 epoch, train loss {:.4f}, test top-1 {:.1f}%\n",
               result.epochs.back().train_loss, 100 * result.epochs.back().test_top1);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "quadrant-drop: error: {}\n", e.what());
    return 1;
  }
}
