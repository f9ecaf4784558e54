// Classifier: what every model in nn/models/ is. A backbone gives the last feature map
// (features(x), N x h x w x D, NHWC); the main head is  forward(x) = fc(global_avg_pool(features));
// the RecursiveMix ROI head (docs/RECURSIVEMIX.md, "One training step", step 6) is
//   roi_logits(F, boxes) = head(flatten(roi_align(F, boxes, 1x1, scale h / image_size,
//                                                  adaptive sampling, aligned)))
// with head = fc_roi, or fc when the head is shared. fc and fc_roi are registered last, so the
// parameter order matches PyTorch's state_dict.
#pragma once

#include <memory>

#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace remix::nn {

class Classifier : public Layer {
 public:
  using Layer::Layer;

  virtual Tensor features(const Tensor& x) = 0;
  Tensor forward(const Tensor& x) override;
  // boxes: N x 4 f32 (x1, y1, x2, y2) in pixels of the square input image of side image_size.
  Tensor roi_logits(const Tensor& features, const Tensor& boxes, int64_t image_size,
                    bool shared_head = false);

  Linear& fc() { return *fc_; }
  Linear& fc_roi() { return *fc_roi_; }
  int64_t feature_channels() const { return fc_->options().in_features; }
  int64_t num_classes() const { return fc_->options().out_features; }

 protected:
  // Registers fc and fc_roi (feature_channels -> num_classes); call it at the end of the
  // constructor.
  void add_heads(int64_t feature_channels, int64_t num_classes, Generator& gen);

 private:
  std::shared_ptr<Linear> fc_, fc_roi_;
};

// Building blocks shared by the models: a bias-free k x k convolution with "same" padding
// (k / 2), and a batch norm with PyTorch's defaults.
std::shared_ptr<Conv2d> make_conv(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                  int64_t stride, Generator& gen);
std::shared_ptr<BatchNorm2d> make_bn(int64_t channels);

}  // namespace remix::nn
