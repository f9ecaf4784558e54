// Shapes are plain vectors of sizes. Tensors are contiguous and row-major, so a shape fully
// determines the memory layout; activations are NHWC (batch, height, width, channels).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remix {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
std::string to_string(const Shape& shape);
// Row-major strides in elements: strides[i] = prod(shape[i+1:]).
std::vector<int64_t> contiguous_strides(const Shape& shape);
// NumPy broadcasting: align on the right, sizes must match or be 1. Throws on mismatch.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Maps a possibly negative axis into [0, ndim); throws when out of range.
int normalize_axis(int64_t axis, int64_t ndim);
// Shape after reducing over `axes` (sorted, unique, normalized); keepdim keeps them as size 1.
Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdim);
// Sorted, unique, normalized axes; an empty list means "all axes".
std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int64_t ndim);

}  // namespace remix
