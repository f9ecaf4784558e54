// Helpers shared by the own CUDA kernels of cuda/*.cu: dtype dispatch, f32 load/store of the
// 16-bit float types, launch sizes, index math for broadcasting and strided reductions, and
// warp/block reductions.
//
// Every kernel computes in f32 registers: a __half or __nv_bfloat16 is widened with to_f32 when
// loaded and rounded (to nearest even) with from_f32<T> when stored.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "cuda/runtime.h"
#include "tensor/tensor.h"

namespace remix::cuda {

// ----------------------------------------------------------------------------- dtype dispatch

// The C++ type a kernel is instantiated with, passed to the lambdas of the dispatchers below.
template <class T>
struct TypeTag {
  using type = T;
};

[[noreturn]] inline void throw_unsupported_dtype(const char* what, DType dtype,
                                                 const char* expected) {
  throw_error(std::string(what) + ": expected a " + expected + " tensor, got " +
              std::string(dtype_name(dtype)));
}

// Calls f(TypeTag<T>{}) with T = float, __half or __nv_bfloat16 for f32, f16, bf16.
template <class F>
void dispatch_floating(DType dtype, const char* what, F&& f) {
  switch (dtype) {
    case DType::f32: f(TypeTag<float>{}); return;
    case DType::f16: f(TypeTag<__half>{}); return;
    case DType::bf16: f(TypeTag<__nv_bfloat16>{}); return;
    default: throw_unsupported_dtype(what, dtype, "f32, f16 or bf16");
  }
}

// Like dispatch_floating, and also int32_t for i32 and uint8_t for u8.
template <class F>
void dispatch_all(DType dtype, const char* what, F&& f) {
  switch (dtype) {
    case DType::i32: f(TypeTag<int32_t>{}); return;
    case DType::u8: f(TypeTag<uint8_t>{}); return;
    default: dispatch_floating(dtype, what, f);
  }
}

// Data movement only looks at bytes: calls f(TypeTag<W>{}) with an unsigned word W of the
// dtype's size, so one instantiation serves f16 and bf16, another f32 and i32.
template <class F>
void dispatch_by_size(DType dtype, F&& f) {
  switch (element_size(dtype)) {
    case 1: f(TypeTag<uint8_t>{}); return;
    case 2: f(TypeTag<uint16_t>{}); return;
    default: f(TypeTag<uint32_t>{}); return;
  }
}

// ------------------------------------------------------------------------ f32 load and store

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f32(int32_t v) { return static_cast<float>(v); }
__device__ __forceinline__ float to_f32(uint8_t v) { return static_cast<float>(v); }

template <class T>
__device__ __forceinline__ T from_f32(float v);
template <>
__device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}
// Floats to integers truncate toward zero and saturate to the type's range; NaN gives 0 (the
// rules of the CPU cast). The hardware conversion to int32 does exactly that.
template <>
__device__ __forceinline__ int32_t from_f32<int32_t>(float v) { return __float2int_rz(v); }
template <>
__device__ __forceinline__ uint8_t from_f32<uint8_t>(float v) {
  return static_cast<uint8_t>(min(max(__float2int_rz(v), 0), 255));
}

// The bits of `value` stored in `dtype` by the same rules, as the unsigned word W of its size:
// what fill() writes.
template <class W>
W fill_bits(DType dtype, double value) {
  const float f = static_cast<float>(value);
  uint32_t bits = 0;
  switch (dtype) {
    case DType::f32: std::memcpy(&bits, &f, 4); break;
    case DType::f16: bits = float_to_half(f); break;
    case DType::bf16: bits = float_to_bf16(f); break;
    case DType::i32: {
      const double t = value != value ? 0.0 : std::clamp(std::trunc(value), -2147483648.0,
                                                         2147483647.0);
      bits = static_cast<uint32_t>(static_cast<int32_t>(t));
      break;
    }
    case DType::u8: {
      const double t = value != value ? 0.0 : std::clamp(std::trunc(value), 0.0, 255.0);
      bits = static_cast<uint8_t>(t);
      break;
    }
  }
  return static_cast<W>(bits);
}

// --------------------------------------------------------------------------- launch geometry

constexpr int kThreads = 256;  // threads per block of the elementwise-style kernels
constexpr int kWarp = 32;

// Blocks for a grid-stride loop over n items: enough to fill the GPU, at least one (a launch
// with zero blocks is an error, and the loop of an empty launch simply does nothing).
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 65536));
}

__device__ __forceinline__ int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// ----------------------------------------------------------------------- strided index math

constexpr int kMaxDims = 8;

// Maps the linear (row-major) index of an element of a logical shape `sizes` to a memory offset
// sum_d index_d * strides[d]. A stride of 0 repeats the operand along that axis: broadcasting.
struct StridedIndex {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};

  __device__ __forceinline__ int64_t offset(int64_t linear) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      off += (linear % sizes[d]) * strides[d];
      linear /= sizes[d];
    }
    return off;
  }
};

// One StridedIndex per operand over the same logical shape `sizes`, with the operands' strides.
// Axes of size 1 are dropped, and neighbouring axes that are contiguous in every operand are
// merged, so that equal shapes need one division per element and a bias over the last axis two.
template <size_t K>
std::array<StridedIndex, K> make_strided_indices(const Shape& sizes,
                                                 const std::array<Shape, K>& strides) {
  Shape merged_sizes;
  std::array<Shape, K> merged_strides;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    bool contiguous = !merged_sizes.empty();
    for (size_t k = 0; k < K && contiguous; ++k)
      contiguous = merged_strides[k].back() == strides[k][d] * sizes[d];
    if (contiguous) {
      merged_sizes.back() *= sizes[d];
      for (size_t k = 0; k < K; ++k) merged_strides[k].back() = strides[k][d];
    } else {
      merged_sizes.push_back(sizes[d]);
      for (size_t k = 0; k < K; ++k) merged_strides[k].push_back(strides[k][d]);
    }
  }
  if (merged_sizes.size() > static_cast<size_t>(kMaxDims))
    throw_error("CUDA kernels handle at most " + std::to_string(kMaxDims) +
                " non-mergeable axes, got shape " + to_string(sizes));
  std::array<StridedIndex, K> out;
  for (size_t k = 0; k < K; ++k) {
    out[k].ndim = static_cast<int>(merged_sizes.size());
    for (size_t d = 0; d < merged_sizes.size(); ++d) {
      out[k].sizes[d] = merged_sizes[d];
      out[k].strides[d] = merged_strides[k][d];
    }
  }
  return out;
}

// Strides that read a tensor of shape `in` broadcast (NumPy rules) to the shape `out`: aligned on
// the right, 0 where `in` has size 1 or no axis at all.
inline Shape broadcast_strides(const Shape& in, const Shape& out) {
  const Shape contiguous = contiguous_strides(in);
  const size_t lead = out.size() - in.size();
  Shape strides(out.size(), 0);
  for (size_t d = lead; d < out.size(); ++d)
    strides[d] = in[d - lead] == 1 ? 0 : contiguous[d - lead];
  return strides;
}

// ---------------------------------------------------------------------- warp/block reductions

struct SumOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
};
// The larger value; NaN wins, as in PyTorch's max.
struct MaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const {
    return (a > b || a != a) ? a : b;
  }
};

// Combines v over the 32 lanes of a warp; every lane gets the result.
template <class Op>
__device__ __forceinline__ float warp_reduce(float v, Op op) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Combines v over the whole block (blockDim.x a multiple of 32); every thread gets the result.
// Safe to call several times in a row: the first barrier protects the previous call's result.
template <class Op>
__device__ float block_reduce(float v, Op op, float identity) {
  __shared__ float partial[kWarp];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  v = warp_reduce(v, op);
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x / kWarp;
    v = warp_reduce(lane < warps ? partial[lane] : identity, op);
    if (lane == 0) partial[0] = v;
  }
  __syncthreads();
  return partial[0];
}

}  // namespace remix::cuda
