// The backward pass: from a loss, visit the recorded Nodes in reverse topological order (a node
// runs only once every consumer of its output has sent its gradient), sum the gradients that
// reach the same tensor, and accumulate the result into each leaf's grad.
#pragma once

#include "tensor/tensor.h"

namespace remix {

// `gradient` may be omitted only for a one-element `root` (it is then 1). Without retain_graph
// the saved tensors of every visited node are freed, and a second backward through them throws.
void backward(const Tensor& root, const Tensor& gradient = Tensor(), bool retain_graph = false);

}  // namespace remix
