// The shared part of every model: the main head and the RecursiveMix ROI head.
#include "nn/models/classifier.h"

#include "autograd/ops.h"

namespace remix::nn {

void Classifier::add_heads(int64_t feature_channels, int64_t num_classes, Generator& gen) {
  REMIX_CHECK(num_classes > 0, "{}: expected a positive number of classes, got {}", type_name(),
              num_classes);
  fc_ = register_module(
      "fc", std::make_shared<Linear>(LinearOptions{feature_channels, num_classes}, gen));
  fc_roi_ = register_module(
      "fc_roi", std::make_shared<Linear>(LinearOptions{feature_channels, num_classes}, gen));
}

Tensor Classifier::forward(const Tensor& x) {
  return fc_->forward(global_avg_pool(features(x)));
}

Tensor Classifier::roi_logits(const Tensor& features, const Tensor& boxes, int64_t image_size,
                              bool shared_head) {
  REMIX_CHECK(
      features.dim() == 4 && image_size > 0,
      "roi_logits: expected N x h x w x C features and a positive image size, got {} and {}",
      to_string(features.shape()), image_size);
  RoiAlignParams params;
  params.out_h = params.out_w = 1;
  params.spatial_scale = static_cast<double>(features.size(1)) / static_cast<double>(image_size);
  params.sampling_ratio = -1;
  params.aligned = true;
  // As the reference: ROI-Align in f32, the head in the features' dtype.
  const Tensor pooled = roi_align(cast(features, DType::f32), boxes, params);
  const Tensor flat = cast(flatten(pooled, 1), features.dtype());
  return shared_head ? fc_->forward(flat) : fc_roi_->forward(flat);
}

std::shared_ptr<Conv2d> make_conv(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                  int64_t stride, Generator& gen) {
  return std::make_shared<Conv2d>(
      Conv2dOptions{in_channels, out_channels, kernel_size, stride, kernel_size / 2, false}, gen);
}

std::shared_ptr<BatchNorm2d> make_bn(int64_t channels) {
  return std::make_shared<BatchNorm2d>(BatchNorm2dOptions{channels});
}

}  // namespace remix::nn
