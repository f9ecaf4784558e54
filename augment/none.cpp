// "none": the batch unchanged. The smallest augmentation, and the template for a new one:
// a class implementing BatchAugmentation (augment/augmentation.h) and a factory that the
// registry (augment/registry.cpp) lists under its name.
#include <memory>

#include "augment/augmentation.h"
#include "augment/options.h"

namespace remix::augment {

namespace {

class NoAugmentation : public BatchAugmentation {
 public:
  std::string name() const override { return "none"; }
  MixedBatch mix(const Tensor& images, const Tensor& targets, Generator&) override {
    return unmixed(images, targets);
  }
};

}  // namespace

std::unique_ptr<BatchAugmentation> make_no_augmentation(const AugmentOptions&) {
  return std::make_unique<NoAugmentation>();
}

}  // namespace remix::augment
