// The backward pass: from a loss, visit the recorded Nodes in reverse topological order (a node
// runs only once every consumer of its output has sent its gradient), sum the gradients that
// reach the same tensor, and accumulate the result into each leaf's grad.
#pragma once

#include <functional>

#include "tensor/tensor.h"

namespace remix {

// Called once for each leaf that received a gradient, as soon as no node left to run can add to
// it: `leaf` is the leaf's metadata (Tensor::autograd_meta().get() of the parameter) and `grad`
// its finished gradient. Data-parallel training starts averaging a bucket of gradients across
// processes from here while backward goes on (dist/gradient_buckets.h).
using LeafGradientReady = std::function<void(const AutogradMetaBase* leaf, const Tensor& grad)>;

// `gradient` may be omitted only for a one-element `root` (it is then 1). Without retain_graph
// the saved tensors of every visited node are freed, and a second backward through them throws.
void backward(const Tensor& root, const Tensor& gradient = Tensor(), bool retain_graph = false,
              const LeafGradientReady& on_leaf_ready = {});

}  // namespace remix
