// ResNets for 32 x 32 inputs (3x3 stem convolution, stride 1, no max-pool), with torchvision's
// parameter names: conv1, bn1, layer<i>.<j>.conv1/bn1/conv2/bn2[/conv3/bn3],
// layer<i>.<j>.downsample.0/1, fc, fc_roi.
//
//   resnet18 / resnet34   basic blocks [2,2,2,2] / [3,4,6,3], widths 64-128-256-512, strides
//                         1,2,2,2, 1x1 conv + BN projection when the shape changes
//                         (torch_reference.py's ResNetCifar).
//   resnet50              bottleneck blocks [3,4,6,3] (1x1, 3x3 with the stride, 1x1 to 4x the
//                         width), output 2048 channels (torchvision's ResNet-50 v1.5 layout).
//   resnet20/32/56        He et al. 2016's CIFAR ResNets: 16 -> 3x3 stem, 3 stages of (depth-2)/6
//                         basic blocks, widths 16-32-64, strides 1,2,2, and the parameter-free
//                         "option A" shortcut: stride-2 subsampling (a 1x1 average pool of stride
//                         2) and zero channels appended (registered as "shortcut", no tensors).
//
// Every block ends with the fused batch norm y = relu(bn(conv(x)) + shortcut).
#pragma once

#include <vector>

#include "nn/models/classifier.h"
#include "nn/sequential.h"

namespace remix::nn {

enum class ResNetBlock { basic, bottleneck };
enum class ResNetShortcut { projection, zero_pad };

struct ResNetConfig {
  ResNetBlock block = ResNetBlock::basic;
  std::vector<int64_t> blocks;  // blocks per stage
  std::vector<int64_t> widths;  // block width per stage (bottleneck output is 4x)
  int64_t stem_width = 64;
  ResNetShortcut shortcut = ResNetShortcut::projection;

  static ResNetConfig resnet18();
  static ResNetConfig resnet34();
  static ResNetConfig resnet50();
  static ResNetConfig cifar(int64_t depth);  // 20, 32, 44, 56, 110, ...: depth = 6n + 2
};

class BasicBlock : public Layer {
 public:
  BasicBlock(int64_t in_channels, int64_t width, int64_t stride, ResNetShortcut shortcut,
             Generator& gen);
  Tensor forward(const Tensor& x) override;
  static constexpr int64_t expansion = 1;

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Layer> shortcut_;  // downsample or option-A shortcut; null for the identity
};

class Bottleneck : public Layer {
 public:
  Bottleneck(int64_t in_channels, int64_t width, int64_t stride, Generator& gen);
  Tensor forward(const Tensor& x) override;
  static constexpr int64_t expansion = 4;

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<Layer> downsample_;  // null for the identity
};

class ResNet : public Classifier {
 public:
  ResNet(const ResNetConfig& config, int64_t num_classes, Generator& gen);
  Tensor features(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::vector<std::shared_ptr<Sequential>> layers_;
};

}  // namespace remix::nn
