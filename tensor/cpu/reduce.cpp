// Reductions on the CPU, f32: sum, mean and max over any set of axes, and argmax along one axis.
//
// x is viewed through its reduction: size-1 axes are dropped and neighbouring axes that are both
// reduced or both kept are merged (x is contiguous, so that is still a row-major view). What is
// left alternates kept and reduced axes and ends in a contiguous "inner" axis, which is either
//   reduced: each output is a sum of contiguous runs          ([N, K] summed over K), or
//   kept:    each output row accumulates whole rows of x      ([N, C] summed over N).
// Sums accumulate in double. When there are few outputs, the reduced rows are cut into blocks
// whose partial results are combined in a fixed order, so that the work spreads over threads and
// the result does not depend on how many threads there are.
// Empty reductions follow NumPy: the sum of nothing is 0, the mean of nothing is NaN.
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {

namespace {

using cpu::parallel_for;

// Elements of x in one block of partial results.
constexpr int64_t kBlockElements = cpu::kParallelThreshold;
// With at least this many outputs (or output rows) the outputs alone give the threads work.
constexpr int64_t kOutputsToSplitOver = 64;

struct Axes {
  std::vector<int64_t> sizes, strides;
};

struct ReducePlan {
  int64_t inner = 1;           // length of the last merged axis (contiguous in x)
  bool inner_reduced = false;  // whether that axis is reduced or kept
  Axes kept, reduced;          // the other merged axes, outermost first, with their x strides
  int64_t outer = 1;           // product of kept.sizes
  int64_t reduced_rows = 1;    // product of reduced.sizes
  int64_t count = 1;           // elements reduced into each output (for the mean)
};

int64_t offset_of(int64_t index, const Axes& axes) {
  int64_t offset = 0;
  for (size_t i = axes.sizes.size(); i-- > 0;) {
    offset += (index % axes.sizes[i]) * axes.strides[i];
    index /= axes.sizes[i];
  }
  return offset;
}

ReducePlan make_plan(const Shape& shape, const std::vector<int>& axes) {
  Shape sizes;
  std::vector<bool> reduced;
  ReducePlan plan;
  for (int axis = 0; axis < static_cast<int>(shape.size()); ++axis) {
    const bool r = std::find(axes.begin(), axes.end(), axis) != axes.end();
    if (r) plan.count *= shape[axis];
    if (shape[axis] == 1) continue;
    if (!sizes.empty() && reduced.back() == r) {
      sizes.back() *= shape[axis];
    } else {
      sizes.push_back(shape[axis]);
      reduced.push_back(r);
    }
  }
  if (sizes.empty()) return plan;  // a single element: the output is x itself
  const std::vector<int64_t> strides = contiguous_strides(sizes);
  plan.inner = sizes.back();
  plan.inner_reduced = reduced.back();
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    Axes& group = reduced[i] ? plan.reduced : plan.kept;
    group.sizes.push_back(sizes[i]);
    group.strides.push_back(strides[i]);
  }
  for (int64_t s : plan.kept.sizes) plan.outer *= s;
  for (int64_t s : plan.reduced.sizes) plan.reduced_rows *= s;
  return plan;
}

// max that keeps NaN once it has seen one, as torch.max does.
inline double max_with_nan(double acc, double v) {
  return (v > acc || v != v) ? v : acc;
}

template <bool is_max>
inline double combine(double acc, double v) {
  if constexpr (is_max)
    return max_with_nan(acc, v);
  else
    return acc + v;
}

// acc (1 value, or `inner` values when the inner axis is kept) takes in rows [r0, r1) of the
// reduced axes for output row `o`.
template <bool is_max>
void accumulate(const float* x, const ReducePlan& p, int64_t o, int64_t r0, int64_t r1,
                double* acc) {
  const float* base = x + offset_of(o, p.kept);
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = base + offset_of(r, p.reduced);
    if (p.inner_reduced) {
      double run = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
      for (int64_t j = 0; j < p.inner; ++j) run = combine<is_max>(run, row[j]);
      acc[0] = combine<is_max>(acc[0], run);
    } else {
      for (int64_t j = 0; j < p.inner; ++j) acc[j] = combine<is_max>(acc[j], row[j]);
    }
  }
}

template <bool is_max>
void reduce_kernel(const float* x, const ReducePlan& p, double scale, float* out) {
  const int64_t acc_len = p.inner_reduced ? 1 : p.inner;
  const int64_t rows_per_block = p.outer >= kOutputsToSplitOver
                                     ? p.reduced_rows
                                     : std::max<int64_t>(1, kBlockElements / p.inner);
  const int64_t blocks = (p.reduced_rows + rows_per_block - 1) / rows_per_block;
  const double identity = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
  std::vector<double> partial(static_cast<size_t>(p.outer * blocks * acc_len), identity);
  const int64_t block_work = std::min(rows_per_block, p.reduced_rows) * p.inner;
  parallel_for(p.outer * blocks, block_work, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t o = task / blocks, r0 = (task % blocks) * rows_per_block;
      accumulate<is_max>(x, p, o, r0, std::min(p.reduced_rows, r0 + rows_per_block),
                         &partial[task * acc_len]);
    }
  });
  parallel_for(p.outer, blocks * acc_len, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o)
      for (int64_t j = 0; j < acc_len; ++j) {
        double v = partial[o * blocks * acc_len + j];
        for (int64_t b = 1; b < blocks; ++b)
          v = combine<is_max>(v, partial[(o * blocks + b) * acc_len + j]);
        out[o * acc_len + j] = static_cast<float>(v * scale);
      }
  });
}

void check_reduce_args(const Tensor& x, const std::vector<int>& axes, const Tensor& out) {
  REMIX_CHECK(x.dtype() == DType::f32 && out.dtype() == DType::f32,
              "reduce on the CPU computes in f32, got input {} and output {}",
              dtype_name(x.dtype()), dtype_name(out.dtype()));
  for (size_t i = 0; i < axes.size(); ++i)
    REMIX_CHECK(axes[i] >= 0 && axes[i] < x.dim() && (i == 0 || axes[i - 1] < axes[i]),
                "reduce: axes [{}] must be sorted, unique and within the {} axes of {}",
                fmt::join(axes, ", "), x.dim(), to_string(x.shape()));
  REMIX_CHECK(out.shape() == reduced_shape(x.shape(), axes, true) ||
                  out.shape() == reduced_shape(x.shape(), axes, false),
              "reduce: output is {} but reducing {} over axes [{}] gives {}",
              to_string(out.shape()), to_string(x.shape()), fmt::join(axes, ", "),
              to_string(reduced_shape(x.shape(), axes, true)));
}

// true when v should replace best: greater, or the first NaN (torch.argmax treats NaN as maximal).
inline bool beats(float v, float best) {
  return v > best || (v != v && best == best);
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, Tensor& out) {
  check_reduce_args(x, axes, out);
  float* po = out.data<float>();
  if (out.numel() == 0) return;
  if (x.numel() == 0) {  // every output reduces nothing
    REMIX_CHECK(op != ReduceOp::max, "max over an empty axis of shape {} is undefined",
                to_string(x.shape()));
    const float empty = op == ReduceOp::sum ? 0.0f : std::numeric_limits<float>::quiet_NaN();
    std::fill(po, po + out.numel(), empty);
    return;
  }
  const ReducePlan plan = make_plan(x.shape(), axes);
  const double scale = op == ReduceOp::mean ? 1.0 / static_cast<double>(plan.count) : 1.0;
  if (op == ReduceOp::max)
    reduce_kernel<true>(x.data<float>(), plan, 1.0, po);
  else
    reduce_kernel<false>(x.data<float>(), plan, scale, po);
}

void CpuBackend::argmax(const Tensor& x, int axis, Tensor& out) {
  REMIX_CHECK(x.dtype() == DType::f32 && out.dtype() == DType::i32,
              "argmax on the CPU reads f32 and writes i32, got {} and {}", dtype_name(x.dtype()),
              dtype_name(out.dtype()));
  REMIX_CHECK(axis >= 0 && axis < x.dim(), "argmax: axis {} is out of range for shape {}", axis,
              to_string(x.shape()));
  REMIX_CHECK(out.shape() == reduced_shape(x.shape(), {axis}, true) ||
                  out.shape() == reduced_shape(x.shape(), {axis}, false),
              "argmax: output is {} for input {} along axis {}", to_string(out.shape()),
              to_string(x.shape()), axis);
  const int64_t n = x.size(axis);
  if (out.numel() == 0) return;
  REMIX_CHECK(n > 0, "argmax over an empty axis of shape {}", to_string(x.shape()));
  // x as [outer, n, inner]; out as [outer, inner], holding the best k so far.
  int64_t inner = 1;
  for (int64_t i = axis + 1; i < x.dim(); ++i) inner *= x.size(i);
  const int64_t outer = out.numel() / inner;
  const float* px = x.data<float>();
  int32_t* po = out.data<int32_t>();
  parallel_for(outer, n * inner, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const float* slab = px + o * n * inner;
      int32_t* best = po + o * inner;
      std::fill(best, best + inner, 0);
      for (int64_t k = 1; k < n; ++k)
        for (int64_t j = 0; j < inner; ++j)
          if (beats(slab[k * inner + j], slab[best[j] * inner + j]))
            best[j] = static_cast<int32_t>(k);
    }
  });
}

}  // namespace remix
