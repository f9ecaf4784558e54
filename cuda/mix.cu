// Batch augmentation on the GPU, NHWC: paste a resized image into a box (RecursiveMix), paste a
// box from another batch (CutMix), fill a box with a value (Cutout). Same semantics as
// tensor/cpu/mix.cpp: a box is an i32 row (x1, y1, x2, y2) of columns x1 <= x < x2 and rows
// y1 <= y < y2, one row per image or a single row for the whole batch; resizing follows
// torch.nn.functional.interpolate as the official RecursiveMix code calls it, scales in f32:
//   nearest   scale = in / out, src = min(floor(dst * scale), in - 1)
//   bilinear  align_corners=True: scale = (in - 1) / (out - 1) (0 when out = 1), src = dst * scale,
//             i0 = floor(src), i1 = min(i0 + 1, in - 1), weights (1 - (src - i0), src - i0).
//
// The boxes are read from device memory inside the kernels, and the launch covers the whole
// destination (threads outside the box return at once), so a captured CUDA graph stays valid when
// the box changes between replays. Nearest pasting, paste_box and fill_box move bytes and work for
// every dtype; bilinear pasting blends f32, f16 or bf16 in f32.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

struct Box {
  int64_t x1, y1, x2, y2;
};

__device__ __forceinline__ Box box_of(const int32_t* boxes, int64_t box_rows, int64_t n) {
  const int32_t* b = boxes + (box_rows == 1 ? 0 : 4 * n);
  return {b[0], b[1], b[2], b[3]};
}

__device__ __forceinline__ bool inside(const Box& b, int64_t y, int64_t x) {
  return y >= b.y1 && y < b.y2 && x >= b.x1 && x < b.x2;
}

// Shape of the destination, and of the source for the resizing paste.
struct Images {
  int64_t N, H, W, C;
};

__device__ __forceinline__ float resize_scale(int64_t in, int64_t out) {
  return static_cast<float>(in) / static_cast<float>(out);
}

// The bilinear scale with align_corners=True: the corners of source and box coincide.
__device__ __forceinline__ float corner_scale(int64_t in, int64_t out) {
  return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.f;
}

// PyTorch's nearest source index for destination index i.
__device__ __forceinline__ int64_t nearest_source(int64_t i, int64_t in, int64_t out) {
  const float src = floorf(static_cast<float>(i) * resize_scale(in, out));
  return min(static_cast<int64_t>(src), in - 1);
}

// PyTorch's bilinear neighbours and weights (align_corners=True) for destination index i.
// __fmul_rn rounds the product on its own (no fusing into a later FMA), so the source coordinate
// is exactly the CPU's.
struct Linear {
  int64_t i0, i1;
  float w0, w1;
};
__device__ __forceinline__ Linear linear_source(int64_t i, int64_t in, int64_t out) {
  const float src = __fmul_rn(static_cast<float>(i), corner_scale(in, out));
  const auto i0 = static_cast<int64_t>(src);
  const float w1 = fminf(fmaxf(src - static_cast<float>(i0), 0.f), 1.f);
  return {i0, i0 < in - 1 ? i0 + 1 : i0, 1.f - w1, w1};
}

// Splits the NHWC index of a destination element.
__device__ __forceinline__ void split(int64_t idx, const Images& d, int64_t& n, int64_t& y,
                                      int64_t& x, int64_t& c) {
  c = idx % d.C;
  x = idx / d.C % d.W;
  y = idx / d.C / d.W % d.H;
  n = idx / d.C / d.W / d.H;
}

template <class W>
__global__ void paste_nearest_kernel(const W* src, Images s, const int32_t* boxes,
                                     int64_t box_rows, W* dst, Images d) {
  const int64_t total = d.N * d.H * d.W * d.C;
  for (int64_t idx = global_thread(); idx < total; idx += grid_stride()) {
    int64_t n, y, x, c;
    split(idx, d, n, y, x, c);
    const Box b = box_of(boxes, box_rows, n);
    if (!inside(b, y, x)) continue;
    const int64_t sy = nearest_source(y - b.y1, s.H, b.y2 - b.y1);
    const int64_t sx = nearest_source(x - b.x1, s.W, b.x2 - b.x1);
    dst[idx] = src[((n * s.H + sy) * s.W + sx) * s.C + c];
  }
}

template <class T>
__global__ void paste_bilinear_kernel(const T* src, Images s, const int32_t* boxes,
                                      int64_t box_rows, T* dst, Images d) {
  const int64_t total = d.N * d.H * d.W * d.C;
  for (int64_t idx = global_thread(); idx < total; idx += grid_stride()) {
    int64_t n, y, x, c;
    split(idx, d, n, y, x, c);
    const Box b = box_of(boxes, box_rows, n);
    if (!inside(b, y, x)) continue;
    const Linear ly = linear_source(y - b.y1, s.H, b.y2 - b.y1);
    const Linear lx = linear_source(x - b.x1, s.W, b.x2 - b.x1);
    const T* row0 = src + (n * s.H + ly.i0) * s.W * s.C + c;
    const T* row1 = src + (n * s.H + ly.i1) * s.W * s.C + c;
    const float top = lx.w0 * to_f32(row0[lx.i0 * s.C]) + lx.w1 * to_f32(row0[lx.i1 * s.C]);
    const float bottom = lx.w0 * to_f32(row1[lx.i0 * s.C]) + lx.w1 * to_f32(row1[lx.i1 * s.C]);
    dst[idx] = from_f32<T>(ly.w0 * top + ly.w1 * bottom);
  }
}

template <class W>
__global__ void paste_box_kernel(const W* src, const int32_t* boxes, int64_t box_rows, W* dst,
                                 Images d) {
  const int64_t total = d.N * d.H * d.W * d.C;
  for (int64_t idx = global_thread(); idx < total; idx += grid_stride()) {
    int64_t n, y, x, c;
    split(idx, d, n, y, x, c);
    if (inside(box_of(boxes, box_rows, n), y, x)) dst[idx] = src[idx];
  }
}

template <class W>
__global__ void fill_box_kernel(const int32_t* boxes, int64_t box_rows, W value, W* dst,
                                Images d) {
  const int64_t total = d.N * d.H * d.W * d.C;
  for (int64_t idx = global_thread(); idx < total; idx += grid_stride()) {
    int64_t n, y, x, c;
    split(idx, d, n, y, x, c);
    if (inside(box_of(boxes, box_rows, n), y, x)) dst[idx] = value;
  }
}

Images images_of(const Tensor& t) {
  const Shape& s = t.shape();
  return {s[0], s[1], s[2], s[3]};
}

const int32_t* box_data(const Tensor& boxes) {
  return static_cast<const int32_t*>(boxes.raw_data());
}

}  // namespace

void CudaBackend::paste_resized(const Tensor& src, const Tensor& box, Interpolation mode,
                                Tensor& dst) {
  if (src.same_storage(dst)) throw_error("paste_resized: source and destination share memory");
  if (dst.numel() == 0) return;
  if (src.size(1) == 0 || src.size(2) == 0)
    throw_error("paste_resized: the source images are empty");
  const Images s = images_of(src), d = images_of(dst);
  const cudaStream_t st = stream(dst.device());
  const unsigned blocks = blocks_for(dst.numel());
  if (mode == Interpolation::nearest) {
    dispatch_by_size(dst.dtype(), [&](auto tag) {
      using W = typename decltype(tag)::type;
      paste_nearest_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const W*>(src.raw_data()), s,
                                                        box_data(box), box.size(0),
                                                        static_cast<W*>(dst.raw_data()), d);
      REMIX_CUDA_CHECK_LAUNCH();
    });
    return;
  }
  dispatch_floating(dst.dtype(), "paste_resized (bilinear)", [&](auto tag) {
    using T = typename decltype(tag)::type;
    paste_bilinear_kernel<<<blocks, kThreads, 0, st>>>(static_cast<const T*>(src.raw_data()), s,
                                                       box_data(box), box.size(0),
                                                       static_cast<T*>(dst.raw_data()), d);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::paste_box(const Tensor& src, const Tensor& box, Tensor& dst) {
  if (src.same_storage(dst)) return;  // pasting an image onto itself changes nothing
  const cudaStream_t st = stream(dst.device());
  dispatch_by_size(dst.dtype(), [&](auto tag) {
    using W = typename decltype(tag)::type;
    paste_box_kernel<<<blocks_for(dst.numel()), kThreads, 0, st>>>(
        static_cast<const W*>(src.raw_data()), box_data(box), box.size(0),
        static_cast<W*>(dst.raw_data()), images_of(dst));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::fill_box(const Tensor& boxes, double value, Tensor& dst) {
  const cudaStream_t st = stream(dst.device());
  dispatch_by_size(dst.dtype(), [&](auto tag) {
    using W = typename decltype(tag)::type;
    fill_box_kernel<<<blocks_for(dst.numel()), kThreads, 0, st>>>(
        box_data(boxes), boxes.size(0), fill_bits<W>(dst.dtype(), value),
        static_cast<W*>(dst.raw_data()), images_of(dst));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix
