// The parts of the augmentation interface that are not virtual: see augmentation.h.
#include "augment/augmentation.h"

namespace remix::augment {

MixedBatch unmixed(const Tensor& images, const Tensor& targets) {
  MixedBatch batch;
  batch.images = images;
  batch.targets = targets;
  return batch;
}

void check_batch(const Tensor& images, const Tensor& targets, int64_t num_classes,
                 const char* what) {
  REMIX_CHECK(images.defined() && images.dim() == 4 && is_floating(images.dtype()),
              "{}: expected N x H x W x C floating-point images, got {}", what,
              images.defined()
                  ? to_string(images.shape()) + " " + std::string(dtype_name(images.dtype()))
                  : std::string("an undefined tensor"));
  REMIX_CHECK(targets.defined() && targets.dim() == 2 && targets.size(0) == images.size(0) &&
                  targets.dtype() == DType::f32,
              "{}: expected {} x K f32 soft targets, got {}", what, images.size(0),
              targets.defined()
                  ? to_string(targets.shape()) + " " + std::string(dtype_name(targets.dtype()))
                  : std::string("an undefined tensor"));
  REMIX_CHECK(num_classes <= 0 || targets.size(1) == num_classes,
              "{}: expected targets over {} classes, got {}", what, num_classes, targets.size(1));
  check_same_device(images, targets, what);
}

void BatchAugmentation::load_state(const nn::NamedTensors& state) {
  REMIX_CHECK(state.empty(),
              "{}: this augmentation keeps no state, but {} tensors were given "
              "(first: \"{}\")",
              name(), state.size(), state.empty() ? "" : state.front().first);
}

}  // namespace remix::augment
