// The model zoo: make_model builds a Classifier by name, initialised from `gen` (Kaiming normal
// fan-out convolutions, BatchNorm weight 1 / bias 0, PyTorch's default Linear).
//   resnet18 | resnet34 | resnet50          resnet.h (torchvision-style CIFAR ResNets)
//   resnet20 | resnet32 | resnet56          resnet.h (He et al.'s CIFAR ResNets, option A)
//   pyramidnet164 | pyramidnet200           pyramidnet.h (alpha 270 / 240; depth and alpha can
//                                           be overridden)
//   densenet121                             densenet.h (CIFAR DenseNet-BC, growth 32)
// Adding a model: write nn/models/<name>.{h,cpp} with a Classifier subclass, add its row to the
// table in models.cpp, and pin its parameter count in tests/nn/models_test.cpp. A program outside
// the tree calls register_model() before parsing its options instead.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/models/classifier.h"
#include "nn/models/densenet.h"
#include "nn/models/pyramidnet.h"
#include "nn/models/resnet.h"

namespace remix::nn {

struct ModelOptions {
  int64_t pyramid_depth = 0;   // 0: the preset's depth (164 or 200)
  double pyramid_alpha = 0.0;  // 0: the preset's alpha (270 or 240)
};

using ModelFactory = std::function<std::shared_ptr<Classifier>(int64_t num_classes, Generator& gen,
                                                                const ModelOptions& options)>;

struct RegisteredModel {
  std::string name;
  std::string description;  // one line
  ModelFactory make;
};

// The built-in models in the order above, then the registered ones in registration order.
std::vector<RegisteredModel> registered_models();
std::vector<std::string> model_names();
// Adds a model (e.g. from a program outside remix's tree); a name already taken throws.
void register_model(RegisteredModel model);

// Throws a remix::Error listing the valid names when `name` is not one of them.
std::shared_ptr<Classifier> make_model(const std::string& name, int64_t num_classes, Generator& gen,
                                       const ModelOptions& options = {});

}  // namespace remix::nn
