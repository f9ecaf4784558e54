// BatchAugmentation: the one interface of augment/. An augmentation takes a batch of images with
// their soft targets and returns the batch to train on, possibly mixed, with the mixing weight and,
// for RecursiveMix, a consistency term for the ROI head (docs/RECURSIVEMIX.md).
//
// One training step with any augmentation (augment/loss.h computes the loss):
//   MixedBatch batch = aug.mix(images, targets, gen);
//   TrainingLoss loss = mixed_batch_loss(model, batch);
//   aug.remember(batch, loss.logits);  // RecursiveMix keeps this step as the next one's history
//   backward(loss.total); ...
// and aug.start_epoch() at the start of every epoch.
//
// Images arrive normalised (N x H x W x C float: f32 on the CPU; f32, bf16 or f16 on a GPU) and
// targets as N x K f32 rows (one-hot, possibly label-smoothed). Every tensor an augmentation makes
// stays on the images' device. Its random draws (box, centre, mixing weight, permutation) are
// made on the host from the Generator passed to mix(), so a run is reproduced by its seed; a box
// reaches the kernels as a small i32 tensor in device memory. Nothing here records gradients.
#pragma once

#include <string>

#include "nn/module.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace remix::augment {

struct MixedBatch {
  Tensor images;     // N x H x W x C, mixed, on the images' device
  Tensor targets;    // N x K f32 soft targets
  double lam = 1.0;  // share of the original image kept (1 = unmixed); for logs and tests

  // RecursiveMix consistency term (docs/RECURSIVEMIX.md, "One training step", steps 6-7);
  // absent when `consistency` is false, and then the tensors below are undefined.
  bool consistency = false;
  Tensor roi_boxes;      // N x 4 f32 (x1, y1, x2, y2) in pixels, the same box on every row
  Tensor teacher_probs;  // N x K f32 = softmax(previous step's logits)
  double consistency_weight = 0.0;  // omega * (1 - lam)
  bool shared_roi_head = false;     // the ROI head uses fc instead of fc_roi
};

// The batch as it came: unmixed, no consistency term.
MixedBatch unmixed(const Tensor& images, const Tensor& targets);

class BatchAugmentation {
 public:
  virtual ~BatchAugmentation() = default;

  // The registry name ("cutmix", "rm", ...).
  virtual std::string name() const = 0;
  // The batch to train on. `images` and `targets` are not modified.
  virtual MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen) = 0;
  // Called after the forward pass with the main-head logits of `batch` (the mix() result).
  virtual void remember(const MixedBatch& batch, const Tensor& logits) {}
  // Called at the start of every epoch.
  virtual void start_epoch() {}
  // State carried between steps (RecursiveMix's history), for an exact resume mid-epoch:
  // load_state(state()) restores it; an empty list means "no state" (the default, which rejects
  // any other).
  virtual nn::NamedTensors state() const { return {}; }
  virtual void load_state(const nn::NamedTensors& state);
};

// Throws a remix::Error unless images are N x H x W x C floating point and targets N x K f32 on
// the same device (and K == num_classes when num_classes > 0). `what` names the caller.
void check_batch(const Tensor& images, const Tensor& targets, int64_t num_classes,
                 const char* what);

}  // namespace remix::augment
