// Data movement on the GPU: fill, copy with broadcasting, dtype casts, channel slices and row
// gathers. Everything but the cast only moves bytes, so it is instantiated per element size.
#include <type_traits>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

template <class W>
__global__ void fill_kernel(W* out, int64_t n, W value) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) out[i] = value;
}

template <class W>
__global__ void broadcast_copy_kernel(const W* src, StridedIndex src_index, W* dst, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) dst[i] = src[src_index.offset(i)];
}

// i32 -> u8 saturates to [0, 255], u8 -> i32 widens; anything involving a float goes through f32
// (which holds every f16, bf16 and u8 value exactly).
template <class D, class S>
__device__ __forceinline__ D convert(S v) {
  if constexpr (std::is_same_v<D, uint8_t> && std::is_same_v<S, int32_t>) {
    return static_cast<uint8_t>(min(max(v, 0), 255));
  } else if constexpr (std::is_integral_v<D> && std::is_integral_v<S>) {
    return static_cast<D>(v);
  } else {
    return from_f32<D>(to_f32(v));
  }
}

template <class D, class S>
__global__ void cast_kernel(const S* src, D* dst, int64_t n) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) dst[i] = convert<D>(src[i]);
}

// rows x count elements: dst[r, dst_start + i] = src[r, src_start + i].
template <class W>
__global__ void copy_channels_kernel(const W* src, int64_t src_channels, int64_t src_start, W* dst,
                                     int64_t dst_channels, int64_t dst_start, int64_t rows,
                                     int64_t count) {
  const int64_t n = rows * count;
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const int64_t r = i / count, c = i % count;
    dst[r * dst_channels + dst_start + c] = src[r * src_channels + src_start + c];
  }
}

// out[i, j] = src[index[i], j]. An index outside [0, rows) gives a zero row: the host cannot check
// device indices without waiting for the GPU.
template <class W>
__global__ void index_select_rows_kernel(const W* src, int64_t src_rows, const int32_t* index,
                                         W* out, int64_t out_rows, int64_t row_size) {
  const int64_t n = out_rows * row_size;
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const int64_t r = i / row_size, j = i % row_size;
    const int64_t from = index[r];
    out[i] = (from >= 0 && from < src_rows) ? src[from * row_size + j] : W(0);
  }
}

}  // namespace

void CudaBackend::fill(Tensor& out, double value) {
  const cudaStream_t s = stream(out.device());
  const int64_t n = out.numel();
  dispatch_by_size(out.dtype(), [&](auto tag) {
    using W = typename decltype(tag)::type;
    fill_kernel<<<blocks_for(n), kThreads, 0, s>>>(static_cast<W*>(out.raw_data()), n,
                                                   fill_bits<W>(out.dtype(), value));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  if (src.dtype() != dst.dtype())
    throw_error("copy: source is " + std::string(dtype_name(src.dtype())) +
                " but destination is " + std::string(dtype_name(dst.dtype())) + "; use cast");
  const cudaStream_t s = stream(dst.device());
  if (src.shape() == dst.shape()) {
    if (dst.nbytes() == 0 || src.raw_data() == dst.raw_data()) return;
    REMIX_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.nbytes(),
                                     cudaMemcpyDeviceToDevice, s));
    return;
  }
  const auto [src_index] =
      make_strided_indices<1>(dst.shape(), {broadcast_strides(src.shape(), dst.shape())});
  const int64_t n = dst.numel();
  dispatch_by_size(dst.dtype(), [&](auto tag) {
    using W = typename decltype(tag)::type;
    broadcast_copy_kernel<<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<const W*>(src.raw_data()), src_index, static_cast<W*>(dst.raw_data()), n);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::cast(const Tensor& src, Tensor& dst) {
  const cudaStream_t s = stream(dst.device());
  const int64_t n = dst.numel();
  dispatch_all(src.dtype(), "cast", [&](auto src_tag) {
    using S = typename decltype(src_tag)::type;
    dispatch_all(dst.dtype(), "cast", [&](auto dst_tag) {
      using D = typename decltype(dst_tag)::type;
      cast_kernel<<<blocks_for(n), kThreads, 0, s>>>(static_cast<const S*>(src.raw_data()),
                                                     static_cast<D*>(dst.raw_data()), n);
      REMIX_CUDA_CHECK_LAUNCH();
    });
  });
}

void CudaBackend::copy_channels(const Tensor& src, int64_t src_start, Tensor& dst,
                                int64_t dst_start, int64_t count) {
  const int64_t src_channels = src.shape().back(), dst_channels = dst.shape().back();
  const int64_t rows = dst_channels == 0 ? 0 : dst.numel() / dst_channels;
  const cudaStream_t s = stream(dst.device());
  dispatch_by_size(dst.dtype(), [&](auto tag) {
    using W = typename decltype(tag)::type;
    copy_channels_kernel<<<blocks_for(rows * count), kThreads, 0, s>>>(
        static_cast<const W*>(src.raw_data()), src_channels, src_start,
        static_cast<W*>(dst.raw_data()), dst_channels, dst_start, rows, count);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::index_select_rows(const Tensor& src, const Tensor& index, Tensor& out) {
  const int64_t src_rows = src.size(0), out_rows = out.size(0);
  const int64_t row_size = numel(Shape(src.shape().begin() + 1, src.shape().end()));
  const cudaStream_t s = stream(out.device());
  dispatch_by_size(out.dtype(), [&](auto tag) {
    using W = typename decltype(tag)::type;
    index_select_rows_kernel<<<blocks_for(out_rows * row_size), kThreads, 0, s>>>(
        static_cast<const W*>(src.raw_data()), src_rows,
        static_cast<const int32_t*>(index.raw_data()), static_cast<W*>(out.raw_data()), out_rows,
        row_size);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix
