// ResNet blocks and backbones (see resnet.h for the architectures).
#include "nn/models/resnet.h"

#include "nn/channels.h"
#include "nn/pool.h"

namespace remix::nn {

ResNetConfig ResNetConfig::resnet18() {
  return {ResNetBlock::basic, {2, 2, 2, 2}, {64, 128, 256, 512}, 64, ResNetShortcut::projection};
}

ResNetConfig ResNetConfig::resnet34() {
  return {ResNetBlock::basic, {3, 4, 6, 3}, {64, 128, 256, 512}, 64, ResNetShortcut::projection};
}

ResNetConfig ResNetConfig::resnet50() {
  return {
      ResNetBlock::bottleneck, {3, 4, 6, 3}, {64, 128, 256, 512}, 64, ResNetShortcut::projection};
}

ResNetConfig ResNetConfig::cifar(int64_t depth) {
  REMIX_CHECK(depth >= 8 && (depth - 2) % 6 == 0,
              "CIFAR ResNet: the depth must be 6n + 2 (20, 32, 44, 56, ...), got {}", depth);
  const int64_t n = (depth - 2) / 6;
  return {ResNetBlock::basic, {n, n, n}, {16, 32, 64}, 16, ResNetShortcut::zero_pad};
}

namespace {

// 1x1 convolution with the stride + batch norm: torchvision's "downsample".
std::shared_ptr<Layer> projection(int64_t in_channels, int64_t out_channels, int64_t stride,
                                  Generator& gen) {
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Layer>>{
      make_conv(in_channels, out_channels, 1, stride, gen), make_bn(out_channels)});
}

}  // namespace

BasicBlock::BasicBlock(int64_t in_channels, int64_t width, int64_t stride, ResNetShortcut shortcut,
                       Generator& gen)
    : Layer("BasicBlock") {
  conv1_ = register_module("conv1", make_conv(in_channels, width, 3, stride, gen));
  bn1_ = register_module("bn1", make_bn(width));
  conv2_ = register_module("conv2", make_conv(width, width, 3, 1, gen));
  bn2_ = register_module("bn2", make_bn(width));
  if (stride == 1 && in_channels == width) return;
  if (shortcut == ResNetShortcut::projection) {
    shortcut_ = register_module("downsample", projection(in_channels, width, stride, gen));
  } else {
    auto zero_pad = std::make_shared<Sequential>();
    if (stride != 1) zero_pad->push_back(std::make_shared<AvgPool2d>(Pool2dOptions{1, stride}));
    zero_pad->push_back(std::make_shared<ChannelPad>(width));
    shortcut_ = register_module("shortcut", zero_pad);
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  const Tensor y = bn1_->forward(conv1_->forward(x), BatchNormActivation::relu);
  const Tensor shortcut = shortcut_ ? shortcut_->forward(x) : x;
  return bn2_->forward(conv2_->forward(y), BatchNormActivation::relu, shortcut);
}

Bottleneck::Bottleneck(int64_t in_channels, int64_t width, int64_t stride, Generator& gen)
    : Layer("Bottleneck") {
  const int64_t out_channels = width * expansion;
  conv1_ = register_module("conv1", make_conv(in_channels, width, 1, 1, gen));
  bn1_ = register_module("bn1", make_bn(width));
  conv2_ = register_module("conv2", make_conv(width, width, 3, stride, gen));
  bn2_ = register_module("bn2", make_bn(width));
  conv3_ = register_module("conv3", make_conv(width, out_channels, 1, 1, gen));
  bn3_ = register_module("bn3", make_bn(out_channels));
  if (stride != 1 || in_channels != out_channels)
    downsample_ = register_module("downsample", projection(in_channels, out_channels, stride, gen));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor y = bn1_->forward(conv1_->forward(x), BatchNormActivation::relu);
  y = bn2_->forward(conv2_->forward(y), BatchNormActivation::relu);
  const Tensor shortcut = downsample_ ? downsample_->forward(x) : x;
  return bn3_->forward(conv3_->forward(y), BatchNormActivation::relu, shortcut);
}

ResNet::ResNet(const ResNetConfig& config, int64_t num_classes, Generator& gen)
    : Classifier("ResNet") {
  REMIX_CHECK(!config.blocks.empty() && config.blocks.size() == config.widths.size(),
              "ResNet: expected one width per stage, got {} stages and {} widths",
              config.blocks.size(), config.widths.size());
  REMIX_CHECK(config.block == ResNetBlock::basic || config.shortcut == ResNetShortcut::projection,
              "ResNet: bottleneck blocks use projection shortcuts only");
  conv1_ = register_module("conv1", make_conv(3, config.stem_width, 3, 1, gen));
  bn1_ = register_module("bn1", make_bn(config.stem_width));
  int64_t channels = config.stem_width;
  for (size_t stage = 0; stage < config.blocks.size(); ++stage) {
    auto layer = std::make_shared<Sequential>();
    for (int64_t j = 0; j < config.blocks[stage]; ++j) {
      const int64_t stride = (stage > 0 && j == 0) ? 2 : 1;
      const int64_t width = config.widths[stage];
      if (config.block == ResNetBlock::basic) {
        layer->push_back(
            std::make_shared<BasicBlock>(channels, width, stride, config.shortcut, gen));
        channels = width * BasicBlock::expansion;
      } else {
        layer->push_back(std::make_shared<Bottleneck>(channels, width, stride, gen));
        channels = width * Bottleneck::expansion;
      }
    }
    layers_.push_back(register_module("layer" + std::to_string(stage + 1), layer));
  }
  add_heads(channels, num_classes, gen);
}

Tensor ResNet::features(const Tensor& x) {
  Tensor y = bn1_->forward(conv1_->forward(x), BatchNormActivation::relu);
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

}  // namespace remix::nn
