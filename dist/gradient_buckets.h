// Gradient averaging in buckets, as PyTorch's DistributedDataParallel does it.
//
// The gradients are grouped into buckets of about `bucket_bytes` each, in reverse order of the
// parameters' registration (the order backward finishes them: the last layer first), a new
// bucket starting where the dtype or the device changes. Each bucket is averaged by one
// collective call (MPI packs it into one buffer; NCCL fuses a group of calls), so a model of
// hundreds of small tensors costs a few calls, not hundreds.
//
// GradientReducer overlaps the reduction with backward, as DDP does: the autograd engine reports
// each parameter's gradient as soon as it is final (autograd/engine.h), and a bucket starts
// (Communicator::start_average) when its last gradient arrives, while backward computes the
// earlier layers' gradients. finish() starts what is left and waits, before the optimizer step
// (or the GradScaler's unscale and overflow check, so that every rank takes the same skip
// decision). Buckets start in the order their gradients complete, which follows the graph, the
// same on every rank, as collectives must be started in the same order everywhere.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <vector>

#include "dist/communicator.h"

namespace remix::dist {

inline constexpr size_t kDefaultBucketBytes = size_t{4} << 20;  // 4 MiB

// Indices into the list of gradients, in the order of reduction.
using Bucket = std::vector<size_t>;

// Buckets over `gradients` (registration order): reverse order, each under `bucket_bytes`
// unless a single gradient is larger, one dtype and device per bucket.
std::vector<Bucket> plan_buckets(const std::vector<Tensor>& gradients, size_t bucket_bytes);

// Replaces every gradient by its mean over the ranks, bucket by bucket, after backward.
void average_gradients(Communicator& communicator, std::vector<Tensor>& gradients,
                       size_t bucket_bytes = kDefaultBucketBytes);

class GradientReducer {
 public:
  // Buckets planned once over `parameters` (registration order; a gradient has its parameter's
  // shape, dtype and device).
  GradientReducer(Communicator& communicator, const std::vector<Tensor>& parameters,
                  size_t bucket_bytes = kDefaultBucketBytes);

  // The gradient of the parameter whose autograd metadata is `leaf` is final: its bucket starts
  // when it was the last one missing. Other leaves are ignored.
  void gradient_ready(const AutogradMetaBase* leaf, const Tensor& grad);
  // Starts the buckets not started yet, with the gradients they have (a parameter no loss term
  // reached this step has none, on every rank alike), waits for all, and gets ready for the
  // next step. Returns the buckets started during backward, before finish() (for tests).
  size_t finish();

  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  void start(size_t bucket);

  Communicator& communicator_;
  std::vector<Bucket> buckets_;  // parameter indices, in the planned order
  std::unordered_map<const AutogradMetaBase*, size_t> parameter_of_;
  std::vector<size_t> bucket_of_;  // parameter index -> bucket
  std::vector<Tensor> grads_;      // this step's final gradients, by parameter
  std::vector<size_t> missing_;    // per bucket, gradients not final yet
  std::vector<bool> started_;
  size_t started_early_ = 0;
};

}  // namespace remix::dist
