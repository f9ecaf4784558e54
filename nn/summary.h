// Model summary: one forward pass on a zero input, one row per layer that ran (in call order):
// its dotted name, type, output shape, own parameter count and forward FLOPs per image.
// FLOPs count one multiply-add as 2 FLOPs and cover convolutions and linear layers only (the
// other layers' arithmetic is a few operations per element, negligible next to them).
// The pass runs in eval mode without gradients, then the model's mode is restored.
#pragma once

#include <string>
#include <vector>

#include "nn/module.h"

namespace remix::nn {

struct SummaryRow {
  std::string name;  // dotted name in the model ("layer1.0.conv1")
  std::string type;  // "Conv2d"
  Shape output;
  int64_t parameters = 0;  // the layer's own parameters
  int64_t flops_per_image = 0;
};

struct ModelSummary {
  std::vector<SummaryRow> rows;
  int64_t total_parameters = 0;    // every parameter of the model (training-only heads included)
  int64_t forward_parameters = 0;  // parameters of the layers that ran
  int64_t flops_per_image = 0;
};

ModelSummary summarize(Layer& model, const Shape& input_shape, Device device = Device::cpu(),
                       DType dtype = DType::f32);
// A table for printing: a header, one line per row, and the totals.
std::string format_summary(const ModelSummary& summary);

}  // namespace remix::nn
