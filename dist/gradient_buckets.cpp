// Gradient buckets (see gradient_buckets.h).
#include "dist/gradient_buckets.h"

#include "tensor/check.h"

namespace remix::dist {

std::vector<Bucket> plan_buckets(const std::vector<Tensor>& gradients, size_t bucket_bytes) {
  REMIX_CHECK(bucket_bytes > 0, "plan_buckets: the bucket size must be positive");
  std::vector<Bucket> buckets;
  size_t filled = 0;
  for (size_t i = gradients.size(); i-- > 0;) {
    const Tensor& g = gradients[i];
    REMIX_CHECK(g.defined(), "plan_buckets: gradient {} is undefined", i);
    const bool fits = !buckets.empty() && filled + g.nbytes() <= bucket_bytes;
    const Tensor* previous = buckets.empty() ? nullptr : &gradients[buckets.back().back()];
    const bool same_kind =
        previous && previous->dtype() == g.dtype() && previous->device() == g.device();
    if (!fits || !same_kind) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(i);
    filled += g.nbytes();
  }
  return buckets;
}

void average_gradients(Communicator& communicator, std::vector<Tensor>& gradients,
                       size_t bucket_bytes) {
  if (communicator.world_size() == 1) return;
  for (const Bucket& bucket : plan_buckets(gradients, bucket_bytes)) {
    std::vector<Tensor> tensors;
    tensors.reserve(bucket.size());
    for (size_t i : bucket) tensors.push_back(gradients[i]);
    communicator.average(tensors);  // in place: the tensors share storage with the gradients
  }
}

}  // namespace remix::dist
