// Pooling layers over NHWC activations. Output sizes follow PyTorch:
//   P = floor_or_ceil((H + 2 * padding - kernel) / stride) + 1  (ceil_mode picks ceil, and the
//   last window must start inside the input), likewise Q.
// AvgPool2d divides by the window clipped to the padded input (PyTorch's count_include_pad).
// GlobalAvgPool averages each channel over H and W: N x H x W x C -> N x C.
#pragma once

#include "nn/module.h"

namespace remix::nn {

struct Pool2dOptions {
  int64_t kernel_size = 2;
  int64_t stride = 0;  // 0: the kernel size (PyTorch's default)
  int64_t padding = 0;
  bool ceil_mode = false;
};

class MaxPool2d : public Layer {
 public:
  explicit MaxPool2d(const Pool2dOptions& options);
  Tensor forward(const Tensor& x) override;

 private:
  Pool2dOptions options_;
};

class AvgPool2d : public Layer {
 public:
  explicit AvgPool2d(const Pool2dOptions& options);
  Tensor forward(const Tensor& x) override;

 private:
  Pool2dOptions options_;
};

class GlobalAvgPool : public Layer {
 public:
  GlobalAvgPool() : Layer("GlobalAvgPool") {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace remix::nn
