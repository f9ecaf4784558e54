// make_model: the table of names and constructors (see models.h).
#include "nn/models/models.h"

#include <mutex>

namespace remix::nn {
namespace {

std::shared_ptr<Classifier> pyramidnet(int64_t default_depth, double default_alpha,
                                       int64_t num_classes, Generator& gen,
                                       const ModelOptions& options) {
  const int64_t depth = options.pyramid_depth > 0 ? options.pyramid_depth : default_depth;
  const double alpha = options.pyramid_alpha > 0 ? options.pyramid_alpha : default_alpha;
  return std::make_shared<PyramidNet>(depth, alpha, num_classes, gen);
}

template <typename Model, typename Config>
ModelFactory with(Config config) {
  return [config](int64_t classes, Generator& gen, const ModelOptions&) {
    return std::make_shared<Model>(config, classes, gen);
  };
}

std::vector<RegisteredModel> built_in_models() {
  return {
      {"resnet18", "torchvision-style ResNet-18, CIFAR stem", with<ResNet>(ResNetConfig::resnet18())},
      {"resnet34", "torchvision-style ResNet-34, CIFAR stem", with<ResNet>(ResNetConfig::resnet34())},
      {"resnet50", "torchvision-style ResNet-50, CIFAR stem", with<ResNet>(ResNetConfig::resnet50())},
      {"resnet20", "He et al.'s CIFAR ResNet-20 (option A)", with<ResNet>(ResNetConfig::cifar(20))},
      {"resnet32", "He et al.'s CIFAR ResNet-32 (option A)", with<ResNet>(ResNetConfig::cifar(32))},
      {"resnet56", "He et al.'s CIFAR ResNet-56 (option A)", with<ResNet>(ResNetConfig::cifar(56))},
      {"pyramidnet164", "PyramidNet-164, bottleneck, alpha 270",
       [](int64_t classes, Generator& gen, const ModelOptions& o) {
         return pyramidnet(164, 270.0, classes, gen, o);
       }},
      {"pyramidnet200", "PyramidNet-200, bottleneck, alpha 240",
       [](int64_t classes, Generator& gen, const ModelOptions& o) {
         return pyramidnet(200, 240.0, classes, gen, o);
       }},
      {"densenet121", "CIFAR DenseNet-BC-121, growth 32",
       with<DenseNet>(DenseNetConfig::densenet121())},
  };
}

// The built-in models, then those registered at run time, in that order.
std::vector<RegisteredModel>& table() {
  static std::vector<RegisteredModel> models = built_in_models();
  return models;
}
std::mutex& table_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

std::vector<RegisteredModel> registered_models() {
  const std::lock_guard lock(table_mutex());
  return table();
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const RegisteredModel& entry : registered_models()) names.push_back(entry.name);
  return names;
}

void register_model(RegisteredModel model) {
  REMIX_CHECK(!model.name.empty() && model.make, "register_model: expected a name and a factory");
  const std::lock_guard lock(table_mutex());
  for (const RegisteredModel& entry : table())
    REMIX_CHECK(entry.name != model.name, "register_model: a model called '{}' exists already",
                model.name);
  table().push_back(std::move(model));
}

std::shared_ptr<Classifier> make_model(const std::string& name, int64_t num_classes, Generator& gen,
                                       const ModelOptions& options) {
  REMIX_CHECK(num_classes > 0, "make_model: expected a positive number of classes, got {}",
              num_classes);
  for (const RegisteredModel& entry : registered_models())
    if (entry.name == name) return entry.make(num_classes, gen, options);
  throw_error(
      fmt::format("unknown model '{}'; valid names: {}", name, fmt::join(model_names(), ", ")));
}

}  // namespace remix::nn
