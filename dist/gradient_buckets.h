// Gradient averaging in buckets, as PyTorch's DistributedDataParallel does it.
//
// The gradients are grouped into buckets of about `bucket_bytes` each, in reverse order of the
// parameters' registration (the order backward finishes them: the last layer first), a new
// bucket starting where the dtype or the device changes. Each bucket is averaged by one
// collective call (MPI packs it into one buffer; NCCL fuses a group of calls), so a model of
// hundreds of small tensors costs a few calls, not hundreds.
//
// The buckets are reduced after backward, one after the other, before the optimizer step (or
// the GradScaler's unscale and overflow check, so that every rank takes the same skip
// decision). See dist/README.md for why they do not overlap with backward yet.
#pragma once

#include <cstddef>
#include <vector>

#include "dist/communicator.h"

namespace remix::dist {

inline constexpr size_t kDefaultBucketBytes = size_t{4} << 20;  // 4 MiB

// Indices into the list of gradients, in the order of reduction.
using Bucket = std::vector<size_t>;

// Buckets over `gradients` (registration order): reverse order, each under `bucket_bytes`
// unless a single gradient is larger, one dtype and device per bucket.
std::vector<Bucket> plan_buckets(const std::vector<Tensor>& gradients, size_t bucket_bytes);

// Replaces every gradient by its mean over the ranks, bucket by bucket.
void average_gradients(Communicator& communicator, std::vector<Tensor>& gradients,
                       size_t bucket_bytes = kDefaultBucketBytes);

}  // namespace remix::dist
