// ROI-Align on NHWC features, forward and backward, computed as torchvision.ops.roi_align
// (Mask R-CNN): box b = (x1, y1, x2, y2) belongs to image b; output bin (i, j) averages
// grid_h x grid_w bilinear samples taken at the centres of a regular grid inside the bin.
//
// One thread per output element (n, i, j, c). The backward spreads each output gradient over the
// four neighbours of every sample with atomicAdd (bins of neighbouring outputs share inputs), into
// dx itself for f32 and into an f32 buffer cast afterwards for f16/bf16.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// Where a box lies on the feature map and how its bins are sampled.
struct RoiBins {
  float start_h, start_w;  // top-left corner, in feature pixels
  float bin_h, bin_w;      // bin size
  int grid_h, grid_w;      // samples per bin side
};

__device__ RoiBins roi_bins(const float* box, const RoiAlignParams& p) {
  const float scale = static_cast<float>(p.spatial_scale);
  const float offset = p.aligned ? 0.5f : 0.f;  // pixel centres sit at half-integers
  // __fmul_rn keeps the products out of FMAs, so that the box (and the sample counts derived
  // from its size) round exactly as on the CPU.
  RoiBins r;
  r.start_w = __fmul_rn(box[0], scale) - offset;
  r.start_h = __fmul_rn(box[1], scale) - offset;
  float width = __fmul_rn(box[2], scale) - offset - r.start_w;
  float height = __fmul_rn(box[3], scale) - offset - r.start_h;
  if (!p.aligned) {  // legacy behaviour: boxes are at least one pixel
    width = fmaxf(width, 1.f);
    height = fmaxf(height, 1.f);
  }
  r.bin_h = height / static_cast<float>(p.out_h);
  r.bin_w = width / static_cast<float>(p.out_w);
  r.grid_h = p.sampling_ratio > 0 ? static_cast<int>(p.sampling_ratio)
                                  : static_cast<int>(ceilf(height / static_cast<float>(p.out_h)));
  r.grid_w = p.sampling_ratio > 0 ? static_cast<int>(p.sampling_ratio)
                                  : static_cast<int>(ceilf(width / static_cast<float>(p.out_w)));
  return r;
}

// The four pixels around (y, x) and their bilinear weights; valid is false for a sample more than
// one pixel outside the map (it contributes zero). Samples just outside are clamped to the edge.
struct Bilinear {
  bool valid;
  int64_t y0, x0, y1, x1;
  float w00, w01, w10, w11;
};

__device__ Bilinear bilinear_at(float y, float x, int64_t H, int64_t W) {
  Bilinear b{};
  if (y < -1.f || y > static_cast<float>(H) || x < -1.f || x > static_cast<float>(W)) {
    b.valid = false;
    return b;
  }
  b.valid = true;
  y = fmaxf(y, 0.f);
  x = fmaxf(x, 0.f);
  b.y0 = static_cast<int64_t>(y);
  b.x0 = static_cast<int64_t>(x);
  if (b.y0 >= H - 1) {
    b.y0 = b.y1 = H - 1;
    y = static_cast<float>(b.y0);
  } else {
    b.y1 = b.y0 + 1;
  }
  if (b.x0 >= W - 1) {
    b.x0 = b.x1 = W - 1;
    x = static_cast<float>(b.x0);
  } else {
    b.x1 = b.x0 + 1;
  }
  const float ly = y - static_cast<float>(b.y0), lx = x - static_cast<float>(b.x0);
  const float hy = 1.f - ly, hx = 1.f - lx;
  b.w00 = hy * hx, b.w01 = hy * lx, b.w10 = ly * hx, b.w11 = ly * lx;
  return b;
}

// Sample (iy, ix) of bin (i, j).
__device__ __forceinline__ void sample_point(const RoiBins& r, int64_t i, int64_t j, int iy, int ix,
                                             float& y, float& x) {
  y = r.start_h + static_cast<float>(i) * r.bin_h +
      (static_cast<float>(iy) + 0.5f) * r.bin_h / static_cast<float>(r.grid_h);
  x = r.start_w + static_cast<float>(j) * r.bin_w +
      (static_cast<float>(ix) + 0.5f) * r.bin_w / static_cast<float>(r.grid_w);
}

template <class T>
__global__ void roi_align_forward_kernel(const T* x, const float* boxes, RoiAlignParams p,
                                         int64_t N, int64_t H, int64_t W, int64_t C, T* y) {
  const int64_t n_out = N * p.out_h * p.out_w * C;
  for (int64_t idx = global_thread(); idx < n_out; idx += grid_stride()) {
    const int64_t c = idx % C, j = idx / C % p.out_w, i = idx / C / p.out_w % p.out_h;
    const int64_t n = idx / C / p.out_w / p.out_h;
    const RoiBins r = roi_bins(boxes + 4 * n, p);
    const T* image = x + n * H * W * C + c;
    float sum = 0.f;
    for (int iy = 0; iy < r.grid_h; ++iy)
      for (int ix = 0; ix < r.grid_w; ++ix) {
        float sy, sx;
        sample_point(r, i, j, iy, ix, sy, sx);
        const Bilinear b = bilinear_at(sy, sx, H, W);
        if (!b.valid) continue;
        sum += b.w00 * to_f32(image[(b.y0 * W + b.x0) * C]) +
               b.w01 * to_f32(image[(b.y0 * W + b.x1) * C]) +
               b.w10 * to_f32(image[(b.y1 * W + b.x0) * C]) +
               b.w11 * to_f32(image[(b.y1 * W + b.x1) * C]);
      }
    const int count = max(r.grid_h * r.grid_w, 1);
    y[idx] = from_f32<T>(sum / static_cast<float>(count));
  }
}

// dx (f32, zeroed) += the share of dy[n, i, j, c] of every input pixel that bin (i, j) sampled.
template <class T>
__global__ void roi_align_backward_kernel(const T* dy, const float* boxes, RoiAlignParams p,
                                          int64_t N, int64_t H, int64_t W, int64_t C, float* dx) {
  const int64_t n_out = N * p.out_h * p.out_w * C;
  for (int64_t idx = global_thread(); idx < n_out; idx += grid_stride()) {
    const int64_t c = idx % C, j = idx / C % p.out_w, i = idx / C / p.out_w % p.out_h;
    const int64_t n = idx / C / p.out_w / p.out_h;
    const RoiBins r = roi_bins(boxes + 4 * n, p);
    const int count = max(r.grid_h * r.grid_w, 1);
    const float g = to_f32(dy[idx]) / static_cast<float>(count);
    float* image = dx + n * H * W * C + c;
    for (int iy = 0; iy < r.grid_h; ++iy)
      for (int ix = 0; ix < r.grid_w; ++ix) {
        float sy, sx;
        sample_point(r, i, j, iy, ix, sy, sx);
        const Bilinear b = bilinear_at(sy, sx, H, W);
        if (!b.valid) continue;
        atomicAdd(image + (b.y0 * W + b.x0) * C, g * b.w00);
        atomicAdd(image + (b.y0 * W + b.x1) * C, g * b.w01);
        atomicAdd(image + (b.y1 * W + b.x0) * C, g * b.w10);
        atomicAdd(image + (b.y1 * W + b.x1) * C, g * b.w11);
      }
  }
}

}  // namespace

void CudaBackend::roi_align_forward(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p,
                                    Tensor& y) {
  const cudaStream_t s = stream(x.device());
  const Shape& shape = x.shape();
  dispatch_floating(x.dtype(), "roi_align", [&](auto tag) {
    using T = typename decltype(tag)::type;
    roi_align_forward_kernel<<<blocks_for(y.numel()), kThreads, 0, s>>>(
        static_cast<const T*>(x.raw_data()), static_cast<const float*>(boxes.raw_data()), p,
        shape[0], shape[1], shape[2], shape[3], static_cast<T*>(y.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::roi_align_backward(const Tensor& dy, const Tensor& boxes,
                                     const RoiAlignParams& p, Tensor& dx) {
  const cudaStream_t s = stream(dy.device());
  const Shape& shape = dx.shape();
  // atomicAdd accumulates in f32; a 16-bit dx gets the sums cast at the end.
  Tensor accumulator = dx.dtype() == DType::f32 ? dx : Tensor(shape, DType::f32, dx.device());
  fill(accumulator, 0.0);
  dispatch_floating(dy.dtype(), "roi_align_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    roi_align_backward_kernel<<<blocks_for(dy.numel()), kThreads, 0, s>>>(
        static_cast<const T*>(dy.raw_data()), static_cast<const float*>(boxes.raw_data()), p,
        shape[0], shape[1], shape[2], shape[3], static_cast<float*>(accumulator.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
  if (dx.dtype() != DType::f32) cast(accumulator, dx);
}

}  // namespace remix
