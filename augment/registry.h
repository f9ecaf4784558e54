// The augmentations by name: what the training app's --aug option accepts.
//
//   std::unique_ptr<BatchAugmentation> aug = make_augmentation("rm", options);
//
// Adding an augmentation: write augment/<name>.cpp (a BatchAugmentation and its factory, as
// augment/none.cpp), add its factory to the table in augment/registry.cpp, and test it in
// tests/augment/<name>_test.cpp. A program outside remix's tree calls register_augmentation()
// before it parses its options (examples/custom-augmentation/ shows one).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "augment/augmentation.h"
#include "augment/options.h"

namespace remix::augment {

using AugmentationFactory =
    std::function<std::unique_ptr<BatchAugmentation>(const AugmentOptions&)>;

struct RegisteredAugmentation {
  std::string name;
  std::string description;  // one line, for --help
  AugmentationFactory make;
};

// Every augmentation, in the order --help lists them: the built-in ones, then the registered
// ones in registration order.
std::vector<RegisteredAugmentation> registered_augmentations();
// Adds an augmentation; a name already taken throws a remix::Error.
void register_augmentation(RegisteredAugmentation augmentation);
// Their names, in the same order.
std::vector<std::string> augmentation_names();

// The augmentation called `name`, made with `options`; an unknown name throws a remix::Error
// listing the valid ones, and invalid options throw the augmentation's own error.
std::unique_ptr<BatchAugmentation> make_augmentation(const std::string& name,
                                                     const AugmentOptions& options = {});

}  // namespace remix::augment
