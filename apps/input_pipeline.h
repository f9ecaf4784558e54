// How batches of u8 images become the model's input, on the training device.
//
// CPU: the loader's worker threads crop and flip in u8 and normalise to f32
//      (prim::normalize_u8), overlapping with the training thread's compute.
// CUDA: the loader only draws the crop offsets and flips (data::Augmentation::draw_only); the
//      raw u8 batch (4x smaller than floats) is uploaded, then cropped, flipped and normalised
//      on the device, straight into the compute dtype (f32, bf16 or f16).
// Either way the same draws are applied (they come from the loader's seeded generators), so a
// batch holds the same pixels on both devices.
#pragma once

#include "data/loader.h"

namespace remix::app {

class InputPipeline {
 public:
  // crop_flip: random crop (4-pixel zero padding) and flip of training batches.
  InputPipeline(Device device, DType dtype, bool crop_flip);

  // Loader settings for the training or the test set (the test set is neither shuffled nor
  // augmented).
  data::LoaderOptions loader_options(bool train, int64_t batch_size, uint64_t seed,
                                     int workers) const;
  // The batch's images as the model's input: N x H x W x C in the compute dtype, on the device.
  Tensor images(const data::Batch& batch, bool train) const;
  // The batch's labels (i32) on the device.
  Tensor labels(const data::Batch& batch) const;

  Device device() const { return device_; }
  DType dtype() const { return dtype_; }

 private:
  Device device_;
  DType dtype_;
  bool crop_flip_;
};

}  // namespace remix::app
