// DenseNet-BC for 32 x 32 inputs (Huang et al. 2017, the CIFAR variant of the RecursiveMix
// tables): growth k, a 3x3 stem convolution to 2k channels (no stem batch norm or pool), dense
// blocks whose layers each see the concatenation of all earlier outputs, transitions between
// blocks, and a final BN-ReLU before the head.
//   dense layer   BN-ReLU-1x1 conv (4k) - BN-ReLU-3x3 conv (k); its output is appended
//   transition    BN-ReLU-1x1 conv (floor(compression * C)) - 2x2 average pool
// DenseNet-121: k = 32, blocks 6-12-24-16, compression 0.5.
//
// Parameter names follow torchvision's DenseNet without its "features." prefix, with fc/fc_roi
// for the classifier: conv0, denseblock<b>.denselayer<l>.norm1/conv1/norm2/conv2,
// transition<b>.norm/conv (and .pool, which has no tensors), norm5, fc, fc_roi.
#pragma once

#include <vector>

#include "nn/channels.h"
#include "nn/models/classifier.h"
#include "nn/pool.h"

namespace remix::nn {

struct DenseNetConfig {
  int64_t growth = 32;
  std::vector<int64_t> blocks = {6, 12, 24, 16};
  int64_t bottleneck_factor = 4;  // the 1x1 convolution's width is this times the growth
  double compression = 0.5;

  static DenseNetConfig densenet121() { return {}; }
};

class DenseLayer : public Layer {
 public:
  DenseLayer(int64_t in_channels, int64_t growth, int64_t bottleneck_width, Generator& gen);
  Tensor forward(const Tensor& x) override;  // the k new channels only

 private:
  std::shared_ptr<BatchNorm2d> norm1_, norm2_;
  std::shared_ptr<Conv2d> conv1_, conv2_;
};

// Runs its layers, each on the concatenation of the block input and all earlier layer outputs;
// returns that concatenation after the last layer.
class DenseBlock : public Layer {
 public:
  DenseBlock(int64_t in_channels, int64_t layers, int64_t growth, int64_t bottleneck_width,
             Generator& gen);
  Tensor forward(const Tensor& x) override;

 private:
  std::vector<std::shared_ptr<DenseLayer>> layers_;
  std::shared_ptr<ConcatChannels> concat_;
};

class Transition : public Layer {
 public:
  Transition(int64_t in_channels, int64_t out_channels, Generator& gen);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<BatchNorm2d> norm_;
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<AvgPool2d> pool_;
};

class DenseNet : public Classifier {
 public:
  DenseNet(const DenseNetConfig& config, int64_t num_classes, Generator& gen);
  Tensor features(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv0_;
  std::vector<std::shared_ptr<Layer>> stages_;  // dense blocks and transitions, in order
  std::shared_ptr<BatchNorm2d> norm5_;
};

}  // namespace remix::nn
