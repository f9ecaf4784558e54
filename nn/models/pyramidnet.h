// PyramidNet with bottleneck blocks for 32 x 32 inputs (Han et al. 2017), exactly as
// PyramidNetCifar in shared/bench/torch_reference.py (the RecursiveMix reference), names included:
//   conv1 (3x3, 3 -> 16), bn1 (no ReLU), layer1..3, bn_final, fc, fc_roi.
// n = (depth - 2) / 9 blocks per stage; the width grows by alpha / (3n) every block:
// dim += alpha / (3n), planes = round(dim) (round half to even, as Python's round), output
// 4 * planes. Block (layer<s>.<j>):
//   y = bn4(conv3(relu(bn3(conv2(relu(bn2(conv1(bn1(x)))))))))      conv2 is 3x3 with the stride
//   out = y + pad_channels(stride == 2 ? avg_pool2d(x, 2, 2, ceil_mode) : x)
// with the add fused into bn4. The head is relu(bn_final(x)), global average pool, fc.
// Presets: pyramidnet164 (depth 164, alpha 270), pyramidnet200 (depth 200, alpha 240).
#pragma once

#include <vector>

#include "nn/models/classifier.h"
#include "nn/sequential.h"

namespace remix::nn {

class PyramidBottleneck : public Layer {
 public:
  PyramidBottleneck(int64_t in_channels, int64_t planes, int64_t stride, Generator& gen);
  Tensor forward(const Tensor& x) override;
  static constexpr int64_t expansion = 4;

 private:
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_, bn4_;
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<Layer> shortcut_;  // pool and/or channel padding; null for the identity
};

class PyramidNet : public Classifier {
 public:
  PyramidNet(int64_t depth, double alpha, int64_t num_classes, Generator& gen);
  Tensor features(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_, bn_final_;
  std::vector<std::shared_ptr<Sequential>> layers_;
};

}  // namespace remix::nn
