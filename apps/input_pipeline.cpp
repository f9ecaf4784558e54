// Loader settings and the device-side image pipeline (see input_pipeline.h).
#include "apps/input_pipeline.h"

namespace remix::app {

namespace {
constexpr int64_t kCropPadding = 4;  // CIFAR's random crop: 4 pixels of zero padding
}  // namespace

InputPipeline::InputPipeline(Device device, DType dtype, bool crop_flip)
    : device_(device), dtype_(dtype), crop_flip_(crop_flip) {
  REMIX_CHECK(is_floating(dtype), "the model input must be a floating dtype, got {}",
              dtype_name(dtype));
  REMIX_CHECK(device.is_cuda() || dtype == DType::f32,
              "the CPU computes in f32 only, got a {} input", dtype_name(dtype));
}

data::LoaderOptions InputPipeline::loader_options(bool train, int64_t batch_size, uint64_t seed,
                                                  int workers) const {
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = train;
  options.seed = seed;
  options.workers = workers;
  options.crop_padding = kCropPadding;
  const bool augment = train && crop_flip_;
  if (device_.is_cuda()) {
    options.augmentation = augment ? data::Augmentation::draw_only : data::Augmentation::none;
  } else {
    options.augmentation = augment ? data::Augmentation::crop_flip : data::Augmentation::none;
    options.batch_transform = [](data::Batch& batch) {
      batch.images = data::normalize(batch.images);  // f32, in the worker thread
    };
  }
  return options;
}

Tensor InputPipeline::images(const data::Batch& batch, bool train) const {
  if (device_.is_cpu()) return batch.images;  // the workers cropped, flipped and normalised
  Tensor u8 = batch.images.to(device_);
  if (train && crop_flip_) u8 = data::crop_flip(u8, batch.crop_flip, kCropPadding);
  return data::normalize(u8, data::kCifarMean, data::kCifarStd, dtype_);
}

Tensor InputPipeline::labels(const data::Batch& batch) const {
  return batch.labels.to(device_);
}

}  // namespace remix::app
