// The table of augmentations: one line each. Each factory is defined beside its augmentation.
// Programs may add their own at run time (register_augmentation).
#include "augment/registry.h"

#include <mutex>

#include "tensor/check.h"

namespace remix::augment {

std::unique_ptr<BatchAugmentation> make_no_augmentation(const AugmentOptions&);  // none.cpp
std::unique_ptr<BatchAugmentation> make_cutout(const AugmentOptions&);           // cutout.cpp
std::unique_ptr<BatchAugmentation> make_mixup(const AugmentOptions&);            // mixup.cpp
std::unique_ptr<BatchAugmentation> make_cutmix(const AugmentOptions&);           // cutmix.cpp
std::unique_ptr<BatchAugmentation> make_recursive_mix(const AugmentOptions&);  // recursive_mix.cpp

namespace {

std::vector<RegisteredAugmentation> built_in_augmentations() {
  return {
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
}

// The built-in augmentations, then those registered at run time, in that order.
std::vector<RegisteredAugmentation>& table() {
  static std::vector<RegisteredAugmentation> augmentations = built_in_augmentations();
  return augmentations;
}
std::mutex& table_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

std::vector<RegisteredAugmentation> registered_augmentations() {
  const std::lock_guard lock(table_mutex());
  return table();
}

void register_augmentation(RegisteredAugmentation augmentation) {
  REMIX_CHECK(!augmentation.name.empty() && augmentation.make,
              "register_augmentation: expected a name and a factory");
  const std::lock_guard lock(table_mutex());
  for (const RegisteredAugmentation& entry : table())
    REMIX_CHECK(entry.name != augmentation.name,
                "register_augmentation: an augmentation called \"{}\" exists already",
                augmentation.name);
  table().push_back(std::move(augmentation));
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
