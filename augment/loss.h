// The training loss of a mixed batch, one definition for the training app and the benchmark
// (docs/RECURSIVEMIX.md, "One training step", steps 6-7):
//   F        = model.features(images)                        N x h x w x D
//   logits   = fc(global_avg_pool(F))                        the main head
//   main     = CE_soft(logits, targets)
//   roi      = model.roi_logits(F, roi_boxes, H, shared)      ROI-Align 1x1 -> fc_roi (or fc)
//   consistency = CE_soft(roi, teacher_probs)                 only when batch.consistency
//   total    = main + consistency_weight * consistency
// with CE_soft(z, t) = mean_i( -sum_k t_ik log_softmax(z_i)_k ), computed in f32. Against a fixed
// teacher, soft cross entropy has the gradient of the KL divergence.
#pragma once

#include "augment/augmentation.h"
#include "nn/models/classifier.h"

namespace remix::augment {

struct TrainingLoss {
  Tensor total;        // what backward() starts from
  Tensor main;         // the main head's loss
  Tensor consistency;  // the ROI head's loss, unweighted; undefined without a consistency term
  Tensor logits;       // the main head's logits (N x K), for accuracy and remember()
};

TrainingLoss mixed_batch_loss(nn::Classifier& model, const MixedBatch& batch);

}  // namespace remix::augment
