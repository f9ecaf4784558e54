// Gradient buckets (see gradient_buckets.h).
#include "dist/gradient_buckets.h"

#include <algorithm>

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

GradientReducer::GradientReducer(Communicator& communicator,
                                 const std::vector<Tensor>& parameters, size_t bucket_bytes)
    : communicator_(communicator),
      buckets_(plan_buckets(parameters, bucket_bytes)),
      bucket_of_(parameters.size()),
      grads_(parameters.size()),
      missing_(buckets_.size()),
      started_(buckets_.size(), false) {
  for (size_t i = 0; i < parameters.size(); ++i) {
    REMIX_CHECK(parameters[i].autograd_meta() != nullptr,
                "GradientReducer: parameter {} does not require a gradient", i);
    parameter_of_[parameters[i].autograd_meta().get()] = i;
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    for (size_t i : buckets_[b]) bucket_of_[i] = b;
    missing_[b] = buckets_[b].size();
  }
}

void GradientReducer::gradient_ready(const AutogradMetaBase* leaf, const Tensor& grad) {
  const auto it = parameter_of_.find(leaf);
  if (it == parameter_of_.end()) return;
  const size_t i = it->second, b = bucket_of_[i];
  REMIX_CHECK(!grads_[i].defined(), "GradientReducer: parameter {} reported twice in one step", i);
  grads_[i] = grad;
  if (--missing_[b] == 0) {
    start(b);
    ++started_early_;
  }
}

void GradientReducer::start(size_t bucket) {
  std::vector<Tensor> tensors;
  for (size_t i : buckets_[bucket])
    if (grads_[i].defined()) tensors.push_back(grads_[i]);
  started_[bucket] = true;
  if (!tensors.empty()) communicator_.start_average(std::move(tensors));
}

size_t GradientReducer::finish() {
  for (size_t b = 0; b < buckets_.size(); ++b)
    if (!started_[b]) start(b);
  communicator_.wait_all();
  const size_t early = started_early_;
  std::fill(grads_.begin(), grads_.end(), Tensor());
  for (size_t b = 0; b < buckets_.size(); ++b) missing_[b] = buckets_[b].size();
  std::fill(started_.begin(), started_.end(), false);
  started_early_ = 0;
  return early;
}

}  // namespace remix::dist
