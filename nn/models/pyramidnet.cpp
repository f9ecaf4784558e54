// PyramidNet (bottleneck) for CIFAR; see pyramidnet.h.
#include "nn/models/pyramidnet.h"

#include <cmath>

#include "nn/channels.h"
#include "nn/pool.h"

namespace remix::nn {

PyramidBottleneck::PyramidBottleneck(int64_t in_channels, int64_t planes, int64_t stride,
                                     Generator& gen)
    : Layer("PyramidBottleneck") {
  const int64_t out_channels = planes * expansion;
  REMIX_CHECK(out_channels >= in_channels,
              "PyramidBottleneck: the output ({} channels) cannot be narrower than the input ({})",
              out_channels, in_channels);
  bn1_ = register_module("bn1", make_bn(in_channels));
  conv1_ = register_module("conv1", make_conv(in_channels, planes, 1, 1, gen));
  bn2_ = register_module("bn2", make_bn(planes));
  conv2_ = register_module("conv2", make_conv(planes, planes, 3, stride, gen));
  bn3_ = register_module("bn3", make_bn(planes));
  conv3_ = register_module("conv3", make_conv(planes, out_channels, 1, 1, gen));
  bn4_ = register_module("bn4", make_bn(out_channels));
  if (stride == 1 && in_channels == out_channels) return;
  auto shortcut = std::make_shared<Sequential>();
  if (stride != 1) shortcut->push_back(std::make_shared<AvgPool2d>(Pool2dOptions{2, 2, 0, true}));
  if (in_channels != out_channels) shortcut->push_back(std::make_shared<ChannelPad>(out_channels));
  shortcut_ = register_module("shortcut", shortcut);
}

Tensor PyramidBottleneck::forward(const Tensor& x) {
  Tensor y = conv1_->forward(bn1_->forward(x));
  y = conv2_->forward(bn2_->forward(y, BatchNormActivation::relu));
  y = conv3_->forward(bn3_->forward(y, BatchNormActivation::relu));
  const Tensor shortcut = shortcut_ ? shortcut_->forward(x) : x;
  return bn4_->forward(y, BatchNormActivation::none, shortcut);
}

PyramidNet::PyramidNet(int64_t depth, double alpha, int64_t num_classes, Generator& gen)
    : Classifier("PyramidNet") {
  const int64_t n = (depth - 2) / 9;
  REMIX_CHECK(n >= 1 && alpha >= 0,
              "PyramidNet: expected depth >= 11 (9n + 2) and alpha >= 0, got depth {} alpha {}",
              depth, alpha);
  const double add = alpha / static_cast<double>(3 * n);
  conv1_ = register_module("conv1", make_conv(3, 16, 3, 1, gen));
  bn1_ = register_module("bn1", make_bn(16));
  double dim = 16.0;  // accumulated exactly as the reference does, so the rounding agrees
  int64_t channels = 16;
  for (int stage = 0; stage < 3; ++stage) {
    auto layer = std::make_shared<Sequential>();
    for (int64_t j = 0; j < n; ++j) {
      dim += add;
      const auto planes = static_cast<int64_t>(std::nearbyint(dim));  // ties to even
      const int64_t stride = (stage > 0 && j == 0) ? 2 : 1;
      layer->push_back(std::make_shared<PyramidBottleneck>(channels, planes, stride, gen));
      channels = planes * PyramidBottleneck::expansion;
    }
    layers_.push_back(register_module("layer" + std::to_string(stage + 1), layer));
  }
  bn_final_ = register_module("bn_final", make_bn(channels));
  add_heads(channels, num_classes, gen);
}

Tensor PyramidNet::features(const Tensor& x) {
  Tensor y = bn1_->forward(conv1_->forward(x));
  for (const auto& layer : layers_) y = layer->forward(y);
  return bn_final_->forward(y, BatchNormActivation::relu);
}

}  // namespace remix::nn
