// The loss of a mixed batch: see loss.h.
#include "augment/loss.h"

#include "autograd/ops.h"
#include "nn/loss.h"

namespace remix::augment {

TrainingLoss mixed_batch_loss(nn::Classifier& model, const MixedBatch& batch) {
  const Tensor features = model.features(batch.images);
  TrainingLoss loss;
  loss.logits = model.fc()(global_avg_pool(features));
  loss.main = nn::soft_cross_entropy(loss.logits, batch.targets);
  loss.total = loss.main;
  if (!batch.consistency) return loss;

  const int64_t H = batch.images.size(1), W = batch.images.size(2);
  REMIX_CHECK(H == W, "mixed_batch_loss: the ROI head expects square images, got {}x{}", H, W);
  const Tensor roi = model.roi_logits(features, batch.roi_boxes, H, batch.shared_roi_head);
  loss.consistency = nn::soft_cross_entropy(roi, batch.teacher_probs);
  loss.total = loss.main + loss.consistency * batch.consistency_weight;
  return loss;
}

}  // namespace remix::augment
