// The datasets named by remix-train's --data option:
//   synthetic      the built-in 10-class set (data/synthetic.h), sizes from --synthetic-train/-test
//   cifar10:DIR    CIFAR-10 binary files in DIR (data/cifar.h)
//   cifar100:DIR   CIFAR-100 binary files in DIR, fine labels
//   folder:DIR     DIR/train/<class>/* and DIR/test/<class>/* images (data/image_folder.h)
// Errors say which path is missing and what layout was expected.
#pragma once

#include <filesystem>
#include <string>

#include "apps/train_config.h"
#include "data/dataset.h"

namespace remix::app {

struct DataSpec {
  std::string kind;           // synthetic | cifar10 | cifar100 | folder
  std::filesystem::path dir;  // empty for synthetic
};

DataSpec parse_data_spec(const std::string& text);

struct TrainTestData {
  data::Dataset train, test;
};

// Loads both splits; checks that they agree on the classes and the image size.
TrainTestData load_data(const TrainConfig& config);
// The number of classes, without loading the images (for --summary): 10 for synthetic and
// CIFAR-10, 100 for CIFAR-100, the class folders of DIR/train for an image folder.
int64_t class_count(const DataSpec& spec);
// Only the test split (for --eval-only).
data::Dataset load_test_data(const TrainConfig& config);

}  // namespace remix::app
