// NumPy broadcasting on contiguous tensors, as the CPU kernels walk it.
//
// Each operand is aligned with the output on the right; an axis where the operand has size 1 (or
// that it lacks) is read with stride 0, so the same element is reused along it. Output axes of
// size 1 are dropped and neighbouring axes that are contiguous for every operand are merged, so
// that common cases become short: [N, C] op [C] is 2 axes with strides (C, 1) and (0, 1), and
// [N, H, W, C] op [N, 1, 1, C] is 3 axes. Kernels then loop over "rows" (every axis but the
// last) and run a tight inner loop along the last axis.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/shape.h"

namespace remix::cpu {

struct BroadcastLayout {
  Shape shape;                                // the output's axes after dropping and merging
  std::vector<std::vector<int64_t>> strides;  // per operand: element strides over `shape`

  int64_t inner() const { return shape.back(); }
  int64_t rows() const;
  // Element offset, in operand `operand`, of the first element of row `row`.
  int64_t row_offset(size_t operand, int64_t row) const;
};

// Throws a remix::Error when an operand does not broadcast to `out`.
BroadcastLayout make_broadcast_layout(const Shape& out, const std::vector<Shape>& operands);

}  // namespace remix::cpu
