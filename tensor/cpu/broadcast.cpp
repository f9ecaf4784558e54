// NumPy broadcasting on contiguous tensors: strides with zeros, axis dropping and merging.
// See broadcast.h.
#include "tensor/cpu/broadcast.h"

#include "tensor/check.h"

namespace remix::cpu {

namespace {

// The operand's element strides over the output's axes: 0 where it is broadcast.
std::vector<int64_t> aligned_strides(const Shape& operand, const Shape& out) {
  REMIX_CHECK(operand.size() <= out.size(), "shape {} cannot be broadcast to {}: it has more axes",
              to_string(operand), to_string(out));
  const size_t lead = out.size() - operand.size();
  const std::vector<int64_t> own = contiguous_strides(operand);
  std::vector<int64_t> strides(out.size(), 0);
  for (size_t i = lead; i < out.size(); ++i) {
    const int64_t size = operand[i - lead];
    REMIX_CHECK(size == out[i] || size == 1,
                "shape {} cannot be broadcast to {}: expected size {} or 1 at axis {}",
                to_string(operand), to_string(out), out[i], i);
    strides[i] = size == 1 ? 0 : own[i - lead];
  }
  return strides;
}

}  // namespace

BroadcastLayout make_broadcast_layout(const Shape& out, const std::vector<Shape>& operands) {
  std::vector<std::vector<int64_t>> full;
  for (const Shape& s : operands) full.push_back(aligned_strides(s, out));

  BroadcastLayout layout;
  layout.strides.resize(operands.size());
  for (size_t axis = 0; axis < out.size(); ++axis) {
    if (out[axis] == 1) continue;  // a size-1 axis does not move any operand
    // Axis `axis` continues the previous kept axis when, for every operand, stepping over all of
    // it equals one step of the previous axis: then both are one longer axis.
    bool mergeable = !layout.shape.empty();
    for (size_t k = 0; k < operands.size() && mergeable; ++k)
      mergeable = layout.strides[k].back() == full[k][axis] * out[axis];
    if (mergeable) {
      layout.shape.back() *= out[axis];
      for (size_t k = 0; k < operands.size(); ++k) layout.strides[k].back() = full[k][axis];
    } else {
      layout.shape.push_back(out[axis]);
      for (size_t k = 0; k < operands.size(); ++k) layout.strides[k].push_back(full[k][axis]);
    }
  }
  if (layout.shape.empty()) {  // a one-element output
    layout.shape.push_back(1);
    for (auto& s : layout.strides) s.push_back(0);
  }
  return layout;
}

int64_t BroadcastLayout::rows() const {
  int64_t n = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) n *= shape[i];
  return n;
}

int64_t BroadcastLayout::row_offset(size_t operand, int64_t row) const {
  int64_t offset = 0;
  for (size_t i = shape.size() - 1; i-- > 0;) {
    offset += (row % shape[i]) * strides[operand][i];
    row /= shape[i];
  }
  return offset;
}

}  // namespace remix::cpu
