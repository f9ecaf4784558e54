// make_model: names to constructors (see models.h).
#include "nn/models/models.h"

namespace remix::nn {

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {"resnet18",      "resnet34",      "resnet50",
                                                 "resnet20",      "resnet32",      "resnet56",
                                                 "pyramidnet164", "pyramidnet200", "densenet121"};
  return names;
}

std::shared_ptr<Classifier> make_model(const std::string& name, int64_t num_classes, Generator& gen,
                                       const ModelOptions& options) {
  REMIX_CHECK(num_classes > 0, "make_model: expected a positive number of classes, got {}",
              num_classes);
  if (name == "resnet18")
    return std::make_shared<ResNet>(ResNetConfig::resnet18(), num_classes, gen);
  if (name == "resnet34")
    return std::make_shared<ResNet>(ResNetConfig::resnet34(), num_classes, gen);
  if (name == "resnet50")
    return std::make_shared<ResNet>(ResNetConfig::resnet50(), num_classes, gen);
  if (name == "resnet20")
    return std::make_shared<ResNet>(ResNetConfig::cifar(20), num_classes, gen);
  if (name == "resnet32")
    return std::make_shared<ResNet>(ResNetConfig::cifar(32), num_classes, gen);
  if (name == "resnet56")
    return std::make_shared<ResNet>(ResNetConfig::cifar(56), num_classes, gen);
  if (name == "pyramidnet164" || name == "pyramidnet200") {
    const bool is164 = name == "pyramidnet164";
    const int64_t depth = options.pyramid_depth > 0 ? options.pyramid_depth : (is164 ? 164 : 200);
    const double alpha =
        options.pyramid_alpha > 0 ? options.pyramid_alpha : (is164 ? 270.0 : 240.0);
    return std::make_shared<PyramidNet>(depth, alpha, num_classes, gen);
  }
  if (name == "densenet121")
    return std::make_shared<DenseNet>(DenseNetConfig::densenet121(), num_classes, gen);
  throw_error(
      fmt::format("unknown model '{}'; valid names: {}", name, fmt::join(model_names(), ", ")));
}

}  // namespace remix::nn
