// remix's own batch norm on the GPU (declared in cuda/batch_norm_kernels.h), with the arithmetic
// of the CPU backend (tensor/cpu/batch_norm.cpp):
//   training:  mean, var = the biased moments over the rows, computed as the moments of
//              d = x - x[row 0] in double (mean = x0 + E[d], var = E[d^2] - E[d]^2);
//              invstd = 1 / sqrt(var + eps); running = (1 - m) running + m batch (the running
//              variance gets the unbiased var * n / (n - 1));
//   forward:   y = act(x * scale + shift [+ z]),  scale = gamma * invstd, shift = beta - mean *
//   scale; backward:  g = dy masked by the ReLU (y > 0); dz = g; dbeta = sum(g);
//              dgamma = invstd * sum(g * (x - mean)); dx = gamma * invstd * (g - dbeta / n
//              - (x - mean) * invstd * dgamma / n).
// Per-channel sums are deterministic: a first kernel sums stripes of rows per channel into a
// partial table (32 channels x 8 row lanes per block, so a warp reads 32 neighbouring channels),
// a second adds the stripes of each channel in order and finishes the statistics.
#include <algorithm>

#include "cuda/batch_norm_kernels.h"
#include "cuda/kernel_utils.cuh"
#include "tensor/check.h"  // throw_error (REMIX_CHECK is for host-only files)

namespace remix::cuda {
namespace {

constexpr int kLanes = 8;             // row lanes per block of the partial sums
constexpr int64_t kMaxStripes = 512;  // stripes of rows (blocks along y) of the partial sums

struct Shape2d {
  int64_t rows, C, stripe;  // stripe: rows per block along y
};

Shape2d shape_of(const Tensor& x) {
  const int64_t C = x.shape().back(), rows = x.numel() / C;
  const int64_t stripes = std::clamp<int64_t>((rows + 255) / 256, 1, kMaxStripes);
  return {rows, C, (rows + stripes - 1) / stripes};
}

int64_t stripes_of(const Shape2d& s) {
  return (s.rows + s.stripe - 1) / s.stripe;
}

dim3 partial_grid(const Shape2d& s) {
  return dim3(static_cast<unsigned>((s.C + kWarp - 1) / kWarp),
              static_cast<unsigned>(stripes_of(s)));
}

template <class T>
__device__ __forceinline__ float load(const T* p, int64_t i) {
  return to_f32(p[i]);
}

// Adds the kLanes row lanes of a block in shared memory; lane 0 writes two sums per channel to
// partial[(stripe * 2 + k) * C + c].
__device__ __forceinline__ void store_partial(double s1, double s2, int64_t c, int64_t C,
                                              double* partial) {
  __shared__ double sums[2][kLanes][kWarp];
  sums[0][threadIdx.y][threadIdx.x] = s1;
  sums[1][threadIdx.y][threadIdx.x] = s2;
  __syncthreads();
  if (threadIdx.y != 0 || c >= C) return;
  double t1 = 0, t2 = 0;
  for (int l = 0; l < kLanes; ++l) {
    t1 += sums[0][l][threadIdx.x];
    t2 += sums[1][l][threadIdx.x];
  }
  partial[(blockIdx.y * 2 + 0) * C + c] = t1;
  partial[(blockIdx.y * 2 + 1) * C + c] = t2;
}

// Sums of d = x - x[row 0] and d^2 over this block's stripe of rows.
template <class T>
__global__ void moments_partial_kernel(const T* x, Shape2d s, double* partial) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kWarp + threadIdx.x;
  double s1 = 0, s2 = 0;
  if (c < s.C) {
    const float x0 = load(x, c);
    const int64_t end = min(s.rows, (blockIdx.y + 1) * s.stripe);
    for (int64_t r = blockIdx.y * s.stripe + threadIdx.y; r < end; r += kLanes) {
      const double d = load(x, r * s.C + c) - x0;
      s1 += d;
      s2 += d * d;
    }
  }
  store_partial(s1, s2, c, s.C, partial);
}

// Channel c's two sums over the stripes' partial sums (stripe k holds row 2k: the first sums of
// every channel, row 2k + 1: the second).
__device__ void sum_stripes(const double* partial, int64_t stripes, int64_t channels, int64_t c,
                            double& s1, double& s2) {
  s1 = 0, s2 = 0;
  for (int64_t k = 0; k < stripes; ++k) {
    s1 += partial[(k * 2 + 0) * channels + c];
    s2 += partial[(k * 2 + 1) * channels + c];
  }
}

struct StatsArgs {
  const float *gamma, *beta;
  float *running_mean, *running_var, *save_mean, *save_invstd;
  float* affine;  // scale[C] then shift[C]
  double momentum, eps;
};

// One thread per channel: the moments from the stripes, the statistics, scale and shift.
template <class T>
__global__ void finish_moments_kernel(const T* x, Shape2d s, int64_t stripes, const double* partial,
                                      StatsArgs a) {
  const int64_t c = global_thread();
  if (c >= s.C) return;
  double s1, s2;
  sum_stripes(partial, stripes, s.C, c, s1, s2);
  const double n = static_cast<double>(s.rows), m = a.momentum;
  const double mean_d = s1 / n, mean = load(x, c) + mean_d;
  const double var = fmax(s2 / n - mean_d * mean_d, 0.0);
  const double invstd = 1.0 / sqrt(var + a.eps);
  a.save_mean[c] = static_cast<float>(mean);
  a.save_invstd[c] = static_cast<float>(invstd);
  a.running_mean[c] = static_cast<float>((1 - m) * a.running_mean[c] + m * mean);
  a.running_var[c] = static_cast<float>((1 - m) * a.running_var[c] + m * var * n / (n - 1));
  const double scale = a.gamma[c] * invstd;
  a.affine[c] = static_cast<float>(scale);
  a.affine[s.C + c] = static_cast<float>(a.beta[c] - mean * scale);
}

// Inference: scale and shift from the running statistics.
__global__ void fold_running_kernel(int64_t C, StatsArgs a) {
  const int64_t c = global_thread();
  if (c >= C) return;
  const double invstd = 1.0 / sqrt(static_cast<double>(a.running_var[c]) + a.eps);
  const double scale = a.gamma[c] * invstd;
  a.affine[c] = static_cast<float>(scale);
  a.affine[C + c] = static_cast<float>(a.beta[c] - a.running_mean[c] * scale);
}

// y = act(x * scale[c] + shift[c] [+ z]).
template <class T>
__global__ void normalize_kernel(const T* x, const T* z, const float* affine, bool relu, int64_t n,
                                 int64_t C, T* y) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const int64_t c = i % C;
    float v = load(x, i) * affine[c] + affine[C + c];
    if (z != nullptr) v += load(z, i);
    if (relu) v = v > 0.f ? v : 0.f;
    y[i] = from_f32<T>(v);
  }
}

// g = dy where the ReLU passed (y > 0), else 0; all of dy without a ReLU.
template <class T>
__device__ __forceinline__ float masked(const T* dy, const T* y, int64_t i) {
  return y == nullptr || load(y, i) > 0.f ? load(dy, i) : 0.f;
}

// Sums of g and g * (x - mean) over this block's stripe of rows.
template <class T>
__global__ void backward_partial_kernel(const T* dy, const T* x, const T* y, const float* mean,
                                        Shape2d s, double* partial) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kWarp + threadIdx.x;
  double s1 = 0, s2 = 0;
  if (c < s.C) {
    const float mu = mean[c];
    const int64_t end = min(s.rows, (blockIdx.y + 1) * s.stripe);
    for (int64_t r = blockIdx.y * s.stripe + threadIdx.y; r < end; r += kLanes) {
      const int64_t i = r * s.C + c;
      const double g = masked(dy, y, i);
      s1 += g;
      s2 += g * (load(x, i) - mu);
    }
  }
  store_partial(s1, s2, c, s.C, partial);
}

struct GradArgs {
  const float *gamma, *save_invstd;
  float *dgamma, *dbeta;
  float* coef;  // per channel: gamma * invstd, dbeta / n, dgamma / n
};

__global__ void finish_backward_kernel(Shape2d s, int64_t stripes, const double* partial,
                                       GradArgs a) {
  const int64_t c = global_thread();
  if (c >= s.C) return;
  double s1, s2;
  sum_stripes(partial, stripes, s.C, c, s1, s2);
  const double n = static_cast<double>(s.rows), invstd = a.save_invstd[c];
  const double dgamma = invstd * s2;
  a.dbeta[c] = static_cast<float>(s1);
  a.dgamma[c] = static_cast<float>(dgamma);
  a.coef[c] = static_cast<float>(a.gamma[c] * invstd);
  a.coef[s.C + c] = static_cast<float>(s1 / n);
  a.coef[2 * s.C + c] = static_cast<float>(dgamma / n);
}

// dx = coef0 * (g - coef1 - (x - mean) * invstd * coef2); dz = g.
template <class T>
__global__ void backward_dx_kernel(const T* dy, const T* x, const T* y, const float* mean,
                                   const float* invstd, const float* coef, int64_t n, int64_t C,
                                   T* dx, T* dz) {
  for (int64_t i = global_thread(); i < n; i += grid_stride()) {
    const int64_t c = i % C;
    const float g = masked(dy, y, i);
    const float xhat = (load(x, i) - mean[c]) * invstd[c];
    dx[i] = from_f32<T>(coef[c] * (g - coef[C + c] - xhat * coef[2 * C + c]));
    if (dz != nullptr) dz[i] = from_f32<T>(g);
  }
}

Tensor scratch_f64(int64_t count, Device device) {
  return Tensor({count * 8}, DType::u8, device);
}

float* f32(Tensor* t) {
  return static_cast<float*>(t->raw_data());
}
const float* f32(const Tensor* t) {
  return static_cast<const float*>(t->raw_data());
}

template <class T>
const T* data_or_null(const Tensor* t) {
  return t == nullptr ? nullptr : static_cast<const T*>(t->raw_data());
}

}  // namespace

void batch_norm_training_own(const BatchNormForward& a, cudaStream_t stream) {
  const Shape2d s = shape_of(*a.x);
  const Device device = a.x->device();
  Tensor partial = scratch_f64(2 * stripes_of(s) * s.C, device);
  Tensor affine({2 * s.C}, DType::f32, device);
  StatsArgs stats{f32(a.gamma),       f32(a.beta),      f32(a.running_mean),
                  f32(a.running_var), f32(a.save_mean), f32(a.save_invstd),
                  f32(&affine),       a.momentum,       a.eps};
  auto* sums = static_cast<double*>(partial.raw_data());
  dispatch_floating(a.x->dtype(), "batch_norm_forward_training", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = static_cast<const T*>(a.x->raw_data());
    moments_partial_kernel<T><<<partial_grid(s), dim3(kWarp, kLanes), 0, stream>>>(x, s, sums);
    REMIX_CUDA_CHECK_LAUNCH();
    finish_moments_kernel<T>
        <<<blocks_for(s.C), kThreads, 0, stream>>>(x, s, stripes_of(s), sums, stats);
    REMIX_CUDA_CHECK_LAUNCH();
    const int64_t n = a.x->numel();
    normalize_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        x, data_or_null<T>(a.z), f32(&affine), a.activation == BatchNormActivation::relu, n, s.C,
        static_cast<T*>(a.y->raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void batch_norm_inference_own(const BatchNormForward& a, cudaStream_t stream) {
  const int64_t C = a.x->shape().back(), n = a.x->numel();
  Tensor affine({2 * C}, DType::f32, a.x->device());
  StatsArgs stats{f32(a.gamma),       f32(a.beta), f32(a.running_mean),
                  f32(a.running_var), nullptr,     nullptr,
                  f32(&affine),       a.momentum,  a.eps};
  fold_running_kernel<<<blocks_for(C), kThreads, 0, stream>>>(C, stats);
  REMIX_CUDA_CHECK_LAUNCH();
  dispatch_floating(a.x->dtype(), "batch_norm_forward_inference", [&](auto tag) {
    using T = typename decltype(tag)::type;
    normalize_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        static_cast<const T*>(a.x->raw_data()), data_or_null<T>(a.z), f32(&affine),
        a.activation == BatchNormActivation::relu, n, C, static_cast<T*>(a.y->raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

void batch_norm_backward_own(const BatchNormBackward& a, cudaStream_t stream) {
  const Shape2d s = shape_of(*a.x);
  const Device device = a.x->device();
  const bool relu = a.activation == BatchNormActivation::relu;
  if (relu && a.y == nullptr) throw_error("batch_norm_backward on CUDA: the ReLU mask needs y");
  Tensor partial = scratch_f64(2 * stripes_of(s) * s.C, device);
  Tensor coef({3 * s.C}, DType::f32, device);
  GradArgs grads{f32(a.gamma), f32(a.save_invstd), f32(a.dgamma), f32(a.dbeta), f32(&coef)};
  auto* sums = static_cast<double*>(partial.raw_data());
  dispatch_floating(a.x->dtype(), "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* dy = static_cast<const T*>(a.dy->raw_data());
    const T* x = static_cast<const T*>(a.x->raw_data());
    const T* y = relu ? static_cast<const T*>(a.y->raw_data()) : nullptr;
    backward_partial_kernel<T>
        <<<partial_grid(s), dim3(kWarp, kLanes), 0, stream>>>(dy, x, y, f32(a.save_mean), s, sums);
    REMIX_CUDA_CHECK_LAUNCH();
    finish_backward_kernel<<<blocks_for(s.C), kThreads, 0, stream>>>(s, stripes_of(s), sums, grads);
    REMIX_CUDA_CHECK_LAUNCH();
    const int64_t n = a.x->numel();
    T* dz = a.dz != nullptr ? static_cast<T*>(a.dz->raw_data()) : nullptr;
    backward_dx_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        dy, x, y, f32(a.save_mean), f32(a.save_invstd), f32(&coef), n, s.C,
        static_cast<T*>(a.dx->raw_data()), dz);
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix::cuda
