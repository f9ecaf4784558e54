// Reductions on the GPU: sum, mean and max over any set of axes, and argmax along one axis.
//
// A reduction is seen as `outputs` independent reductions of R elements each: the kept axes
// index the output (StridedIndex `kept` gives the first input element of an output), the reduced
// axes index the R elements (StridedIndex `reduced` gives their offsets from it). Two kernels:
//   - rows: the reduced elements are contiguous (the reduced axes are the trailing ones, as for a
//     mean over classes or a sum of everything): one block per output, a block-wide reduction;
//   - columns: anything else (a sum over the batch, a mean over H and W of NHWC): 32 neighbouring
//     outputs per block, so that loads are coalesced, and 8 rows of threads splitting the R
//     elements. When there are few outputs and many elements, the R elements are split further
//     into chunks over blockIdx.y whose f32 partial results a second pass combines.
// Accumulation is always in f32.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

constexpr int kColumnOutputs = 32;  // outputs per block of the column kernel (one warp wide)
constexpr int kColumnRows = 8;      // threads sharing one output's elements
constexpr int64_t kMinChunk = 512;  // elements per output below which a chunk is not split

template <class T, class Op>
__global__ void reduce_rows_kernel(const T* x, StridedIndex kept, int64_t outputs, int64_t R,
                                   Op op, float identity, float scale, T* out) {
  for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    const T* row = x + kept.offset(o);
    float v = identity;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x) v = op(v, to_f32(row[r]));
    v = block_reduce(v, op, identity);
    if (threadIdx.x == 0) out[o] = from_f32<T>(v * scale);
  }
}

// Block (32, 8). Chunk blockIdx.y covers elements [y * chunk, (y + 1) * chunk) of every output and
// writes out[y * outputs + o].
template <class In, class Out, class Op>
__global__ void reduce_columns_kernel(const In* x, StridedIndex kept, StridedIndex reduced,
                                      int64_t outputs, int64_t R, int64_t chunk, Op op,
                                      float identity, float scale, Out* out) {
  __shared__ float partial[kColumnRows][kColumnOutputs];
  const int64_t r_begin = blockIdx.y * chunk;
  const int64_t r_end = r_begin + chunk < R ? r_begin + chunk : R;
  for (int64_t first = static_cast<int64_t>(blockIdx.x) * kColumnOutputs; first < outputs;
       first += static_cast<int64_t>(gridDim.x) * kColumnOutputs) {
    const int64_t o = first + threadIdx.x;
    float v = identity;
    if (o < outputs) {
      const In* base = x + kept.offset(o);
      for (int64_t r = r_begin + threadIdx.y; r < r_end; r += kColumnRows)
        v = op(v, to_f32(base[reduced.offset(r)]));
    }
    partial[threadIdx.y][threadIdx.x] = v;
    __syncthreads();
    if (threadIdx.y == 0 && o < outputs) {
      for (int k = 1; k < kColumnRows; ++k) v = op(v, partial[k][threadIdx.x]);
      out[blockIdx.y * outputs + o] = from_f32<Out>(v * scale);
    }
    __syncthreads();
  }
}

// out[o] = index of the first maximum of x[outer, :, inner] with o = outer * inner_size + inner.
template <class T>
__global__ void argmax_kernel(const T* x, int64_t outer_size, int64_t axis_size,
                              int64_t inner_size, int32_t* out) {
  const int64_t n = outer_size * inner_size;
  for (int64_t o = global_thread(); o < n; o += grid_stride()) {
    const T* base = x + (o / inner_size) * axis_size * inner_size + o % inner_size;
    float best = to_f32(base[0]);
    int32_t best_index = 0;
    for (int64_t k = 1; k < axis_size; ++k) {
      const float v = to_f32(base[k * inner_size]);
      if (v > best || (v != v && best == best)) {  // NaN counts as the maximum, as in PyTorch
        best = v;
        best_index = static_cast<int32_t>(k);
      }
    }
    out[o] = best_index;
  }
}

// Splits x's axes into the kept ones (indexing outputs) and the reduced ones.
struct ReductionPlan {
  StridedIndex kept, reduced;
  int64_t outputs = 1, R = 1;
};

ReductionPlan plan_reduction(const Shape& shape, const std::vector<int>& axes) {
  const Shape strides = contiguous_strides(shape);
  Shape kept_sizes, kept_strides, reduced_sizes, reduced_strides;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    const bool is_reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    (is_reduced ? reduced_sizes : kept_sizes).push_back(shape[d]);
    (is_reduced ? reduced_strides : kept_strides).push_back(strides[d]);
  }
  ReductionPlan plan;
  plan.kept = make_strided_indices<1>(kept_sizes, {kept_strides})[0];
  plan.reduced = make_strided_indices<1>(reduced_sizes, {reduced_strides})[0];
  plan.outputs = numel(kept_sizes);
  plan.R = numel(reduced_sizes);
  return plan;
}

template <class T, class Op>
void launch_reduce(const T* x, const ReductionPlan& plan, Op op, float identity, float scale,
                   T* out, Device device) {
  const cudaStream_t s = stream(device);
  const int64_t outputs = plan.outputs, R = plan.R;
  const bool contiguous_rows =
      plan.reduced.ndim == 0 || (plan.reduced.ndim == 1 && plan.reduced.strides[0] == 1);
  if (contiguous_rows) {
    // Up to kThreads threads, a whole number of warps, no more than the row needs.
    const int64_t warps = std::clamp<int64_t>((R + kWarp - 1) / kWarp, 1, kThreads / kWarp);
    reduce_rows_kernel<<<blocks_for(outputs, 1), static_cast<unsigned>(warps * kWarp), 0, s>>>(
        x, plan.kept, outputs, R, op, identity, scale, out);
    REMIX_CUDA_CHECK_LAUNCH();
    return;
  }
  const dim3 block(kColumnOutputs, kColumnRows);
  const unsigned column_blocks = blocks_for(outputs, kColumnOutputs);
  // Enough chunks to give the GPU about 512 blocks, each chunk at least kMinChunk elements long.
  const int64_t chunks = std::clamp<int64_t>(
      std::min<int64_t>((R + kMinChunk - 1) / kMinChunk, 512 / column_blocks), 1, 512);
  if (chunks == 1) {
    reduce_columns_kernel<<<dim3(column_blocks, 1), block, 0, s>>>(
        x, plan.kept, plan.reduced, outputs, R, R, op, identity, scale, out);
    REMIX_CUDA_CHECK_LAUNCH();
    return;
  }
  const int64_t chunk = (R + chunks - 1) / chunks;
  Tensor partial({chunks, outputs}, DType::f32, device);
  float* p = static_cast<float*>(partial.raw_data());
  reduce_columns_kernel<<<dim3(column_blocks, static_cast<unsigned>(chunks)), block, 0, s>>>(
      x, plan.kept, plan.reduced, outputs, R, chunk, op, identity, 1.f, p);
  REMIX_CUDA_CHECK_LAUNCH();
  // Second pass: reduce the [chunks, outputs] partial results over their first axis.
  const ReductionPlan second = plan_reduction({chunks, outputs}, {0});
  reduce_columns_kernel<<<dim3(column_blocks, 1), block, 0, s>>>(
      static_cast<const float*>(p), second.kept, second.reduced, outputs, chunks, chunks, op,
      identity, scale, out);
  REMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, Tensor& out) {
  const ReductionPlan plan = plan_reduction(x.shape(), axes);
  dispatch_floating(x.dtype(), "reduce", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    switch (op) {
      case ReduceOp::sum: launch_reduce(px, plan, SumOp{}, 0.f, 1.f, po, x.device()); break;
      case ReduceOp::mean:
        launch_reduce(px, plan, SumOp{}, 0.f, 1.f / static_cast<float>(plan.R), po, x.device());
        break;
      case ReduceOp::max: launch_reduce(px, plan, MaxOp{}, -INFINITY, 1.f, po, x.device()); break;
    }
  });
}

void CudaBackend::argmax(const Tensor& x, int axis, Tensor& out) {
  const Shape& shape = x.shape();
  const int64_t outer = numel(Shape(shape.begin(), shape.begin() + axis));
  const int64_t inner = numel(Shape(shape.begin() + axis + 1, shape.end()));
  const int64_t axis_size = shape[axis];
  const cudaStream_t s = stream(x.device());
  dispatch_floating(x.dtype(), "argmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    argmax_kernel<<<blocks_for(outer * inner), kThreads, 0, s>>>(
        static_cast<const T*>(x.raw_data()), outer, axis_size, inner,
        static_cast<int32_t*>(out.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix
