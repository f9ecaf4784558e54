// The table of augmentations: one line each. Each factory is defined beside its augmentation.
#include "augment/registry.h"

#include "tensor/check.h"

namespace remix::augment {

std::unique_ptr<BatchAugmentation> make_no_augmentation(const AugmentOptions&);  // none.cpp
std::unique_ptr<BatchAugmentation> make_cutout(const AugmentOptions&);           // cutout.cpp
std::unique_ptr<BatchAugmentation> make_mixup(const AugmentOptions&);            // mixup.cpp
std::unique_ptr<BatchAugmentation> make_cutmix(const AugmentOptions&);           // cutmix.cpp
std::unique_ptr<BatchAugmentation> make_recursive_mix(const AugmentOptions&);  // recursive_mix.cpp

const std::vector<RegisteredAugmentation>& registered_augmentations() {
  static const std::vector<RegisteredAugmentation> table = {
      {"none", "the batch unchanged", make_no_augmentation},
      {"cutout", "a square of each image set to zero (DeVries & Taylor 2017)", make_cutout},
      {"mixup", "images and targets blended with a permuted batch (Zhang et al. 2018)", make_mixup},
      {"cutmix", "a box of a permuted batch pasted, targets mixed by area (Yun et al. 2019)",
       make_cutmix},
      {"rm",
       "RecursiveMix: the previous batch resized into a box, with an ROI consistency loss "
       "(Yang et al. 2022)",
       make_recursive_mix},
  };
  return table;
}

std::vector<std::string> augmentation_names() {
  std::vector<std::string> names;
  for (const RegisteredAugmentation& entry : registered_augmentations())
    names.push_back(entry.name);
  return names;
}

std::unique_ptr<BatchAugmentation> make_augmentation(const std::string& name,
                                                     const AugmentOptions& options) {
  for (const RegisteredAugmentation& entry : registered_augmentations())
    if (entry.name == name) return entry.make(options);
  throw_error(fmt::format("unknown augmentation \"{}\": expected one of {}", name,
                          fmt::join(augmentation_names(), ", ")));
}

}  // namespace remix::augment
