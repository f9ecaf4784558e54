// DenseNet-BC for CIFAR; see densenet.h.
#include "nn/models/densenet.h"

#include <cmath>

namespace remix::nn {

DenseLayer::DenseLayer(int64_t in_channels, int64_t growth, int64_t bottleneck_width,
                       Generator& gen)
    : Layer("DenseLayer") {
  norm1_ = register_module("norm1", make_bn(in_channels));
  conv1_ = register_module("conv1", make_conv(in_channels, bottleneck_width, 1, 1, gen));
  norm2_ = register_module("norm2", make_bn(bottleneck_width));
  conv2_ = register_module("conv2", make_conv(bottleneck_width, growth, 3, 1, gen));
}

Tensor DenseLayer::forward(const Tensor& x) {
  const Tensor y = conv1_->forward(norm1_->forward(x, BatchNormActivation::relu));
  return conv2_->forward(norm2_->forward(y, BatchNormActivation::relu));
}

DenseBlock::DenseBlock(int64_t in_channels, int64_t layers, int64_t growth,
                       int64_t bottleneck_width, Generator& gen)
    : Layer("DenseBlock") {
  for (int64_t i = 0; i < layers; ++i) {
    auto layer =
        std::make_shared<DenseLayer>(in_channels + i * growth, growth, bottleneck_width, gen);
    layers_.push_back(register_module("denselayer" + std::to_string(i + 1), layer));
  }
  concat_ = register_module("concat", std::make_shared<ConcatChannels>());
}

Tensor DenseBlock::forward(const Tensor& x) {
  Tensor features = x;
  for (const auto& layer : layers_)
    features = concat_->forward({features, layer->forward(features)});
  return features;
}

Transition::Transition(int64_t in_channels, int64_t out_channels, Generator& gen)
    : Layer("Transition") {
  norm_ = register_module("norm", make_bn(in_channels));
  conv_ = register_module("conv", make_conv(in_channels, out_channels, 1, 1, gen));
  pool_ = register_module("pool", std::make_shared<AvgPool2d>(Pool2dOptions{2, 2}));
}

Tensor Transition::forward(const Tensor& x) {
  return pool_->forward(conv_->forward(norm_->forward(x, BatchNormActivation::relu)));
}

DenseNet::DenseNet(const DenseNetConfig& config, int64_t num_classes, Generator& gen)
    : Classifier("DenseNet") {
  REMIX_CHECK(config.growth > 0 && !config.blocks.empty() && config.compression > 0 &&
                  config.compression <= 1,
              "DenseNet: expected growth > 0, at least one block and 0 < compression <= 1");
  int64_t channels = 2 * config.growth;
  conv0_ = register_module("conv0", make_conv(3, channels, 3, 1, gen));
  const int64_t bottleneck_width = config.bottleneck_factor * config.growth;
  for (size_t b = 0; b < config.blocks.size(); ++b) {
    const std::string index = std::to_string(b + 1);
    stages_.push_back(register_module(
        "denseblock" + index, std::make_shared<DenseBlock>(channels, config.blocks[b],
                                                           config.growth, bottleneck_width, gen)));
    channels += config.blocks[b] * config.growth;
    if (b + 1 == config.blocks.size()) break;
    const auto reduced =
        static_cast<int64_t>(std::floor(config.compression * static_cast<double>(channels)));
    stages_.push_back(register_module("transition" + index,
                                      std::make_shared<Transition>(channels, reduced, gen)));
    channels = reduced;
  }
  norm5_ = register_module("norm5", make_bn(channels));
  add_heads(channels, num_classes, gen);
}

Tensor DenseNet::features(const Tensor& x) {
  Tensor y = conv0_->forward(x);
  for (const auto& stage : stages_) y = stage->forward(y);
  return norm5_->forward(y, BatchNormActivation::relu);
}

}  // namespace remix::nn
