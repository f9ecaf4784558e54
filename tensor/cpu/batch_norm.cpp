// Batch normalisation on the CPU, optionally fused with a residual add and a ReLU:
//   y = act(gamma * (x - mean) * invstd + beta [+ z]),  invstd = 1 / sqrt(var + eps),
// for x of any shape whose last axis is the channel axis C (NHWC or N x C): the statistics of
// channel c are taken over all rows, where a row is one position of the leading axes.
// Training uses the batch mean and biased variance and updates the running statistics as
// PyTorch does (the running variance receives the unbiased estimate var * n / (n - 1)); inference
// uses the running statistics. Each phase (statistics, normalisation) is one pass over the rows,
// threaded with OpenMP; the per-channel sums are kept per thread in double and added at the end.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {
namespace {

void check_f32(const Tensor* t, const char* what) {
  if (t == nullptr) return;
  REMIX_CHECK(t->dtype() == DType::f32, "batch_norm on the CPU computes in f32, but {} is {}", what,
              dtype_name(t->dtype()));
}

// Per-channel sums over rows: add_row(row, acc) adds row's terms into acc[0 .. width).
// Each thread sums its rows into its own partial, then the partials are added.
template <class AddRow>
std::vector<double> sum_over_rows(int64_t rows, int64_t width, AddRow add_row) {
  const int threads = omp_get_max_threads();
  std::vector<double> partial(static_cast<size_t>(threads * width), 0.0);
#pragma omp parallel num_threads(threads) if (rows * width >= cpu::kParallelThreshold)
  {
    double* acc = partial.data() + omp_get_thread_num() * width;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < rows; ++i) add_row(i, acc);
  }
  std::vector<double> total(static_cast<size_t>(width), 0.0);
  for (int t = 0; t < threads; ++t)
    for (int64_t c = 0; c < width; ++c) total[c] += partial[t * width + c];
  return total;
}

// y = act(x * scale + shift [+ z]) row by row: the normalisation folded into one affine map.
void apply_affine(const float* x, const float* z, const std::vector<float>& scale,
                  const std::vector<float>& shift, bool relu, int64_t rows, int64_t C, float* y) {
  const float* sc = scale.data();
  const float* sh = shift.data();
#pragma omp parallel for schedule(static) if (rows * C >= cpu::kParallelThreshold)
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * C;
    float* yi = y + i * C;
    for (int64_t c = 0; c < C; ++c) yi[c] = xi[c] * sc[c] + sh[c];
    if (z != nullptr) {
      const float* zi = z + i * C;
      for (int64_t c = 0; c < C; ++c) yi[c] += zi[c];
    }
    if (relu)
      for (int64_t c = 0; c < C; ++c) yi[c] = yi[c] > 0.0f ? yi[c] : 0.0f;
  }
}

// scale = gamma * invstd, shift = beta - mean * scale.
void fold_affine(const float* gamma, const float* beta, const std::vector<double>& mean,
                 const std::vector<double>& invstd, std::vector<float>& scale,
                 std::vector<float>& shift) {
  const size_t C = mean.size();
  scale.resize(C);
  shift.resize(C);
  for (size_t c = 0; c < C; ++c) {
    scale[c] = static_cast<float>(gamma[c] * invstd[c]);
    shift[c] = static_cast<float>(beta[c] - mean[c] * gamma[c] * invstd[c]);
  }
}

}  // namespace

void CpuBackend::batch_norm_forward_training(const BatchNormForward& args) {
  check_f32(args.x, "x");
  check_f32(args.z, "z");
  const int64_t C = args.x->shape().back();
  const int64_t rows = args.x->numel() / C;
  const float* x = args.x->data<float>();

  // acc[0, C): sum of x; acc[C, 2C): sum of x^2. In double, var = E[x^2] - mean^2 keeps about
  // 16 - 2 * log10(|mean| / std) digits, far more than f32 data carries.
  const std::vector<double> sums = sum_over_rows(rows, 2 * C, [&](int64_t i, double* acc) {
    const float* xi = x + i * C;
    for (int64_t c = 0; c < C; ++c) {
      const double v = xi[c];
      acc[c] += v;
      acc[C + c] += v * v;
    }
  });

  std::vector<double> mean(C), invstd(C);
  float* running_mean = args.running_mean->data<float>();
  float* running_var = args.running_var->data<float>();
  float* save_mean = args.save_mean->data<float>();
  float* save_invstd = args.save_invstd->data<float>();
  const double n = static_cast<double>(rows), m = args.momentum;
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = sums[c] / n;
    const double var = std::max(sums[C + c] / n - mean[c] * mean[c], 0.0);
    invstd[c] = 1.0 / std::sqrt(var + args.eps);
    save_mean[c] = static_cast<float>(mean[c]);
    save_invstd[c] = static_cast<float>(invstd[c]);
    running_mean[c] = static_cast<float>((1 - m) * running_mean[c] + m * mean[c]);
    running_var[c] = static_cast<float>((1 - m) * running_var[c] + m * var * n / (n - 1));
  }

  std::vector<float> scale, shift;
  fold_affine(args.gamma->data<float>(), args.beta->data<float>(), mean, invstd, scale, shift);
  apply_affine(x, args.z ? args.z->data<float>() : nullptr, scale, shift,
               args.activation == BatchNormActivation::relu, rows, C, args.y->data<float>());
}

void CpuBackend::batch_norm_forward_inference(const BatchNormForward& args) {
  check_f32(args.x, "x");
  check_f32(args.z, "z");
  const int64_t C = args.x->shape().back();
  const int64_t rows = args.x->numel() / C;
  const float* running_mean = args.running_mean->data<float>();
  const float* running_var = args.running_var->data<float>();
  std::vector<double> mean(C), invstd(C);
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = running_mean[c];
    invstd[c] = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + args.eps);
  }
  std::vector<float> scale, shift;
  fold_affine(args.gamma->data<float>(), args.beta->data<float>(), mean, invstd, scale, shift);
  apply_affine(args.x->data<float>(), args.z ? args.z->data<float>() : nullptr, scale, shift,
               args.activation == BatchNormActivation::relu, rows, C, args.y->data<float>());
}

// With xhat = (x - mean) * invstd and dy_m the incoming gradient masked by the ReLU (y > 0):
//   dbeta = sum(dy_m),  dgamma = sum(dy_m * xhat),  dz = dy_m,
//   dx = gamma * invstd / n * (n * dy_m - dbeta - xhat * dgamma),  sums over the n rows.
void CpuBackend::batch_norm_backward(const BatchNormBackward& args) {
  check_f32(args.dy, "dy");
  check_f32(args.x, "x");
  const bool relu = args.activation == BatchNormActivation::relu;
  REMIX_CHECK(!relu || args.y != nullptr, "batch_norm_backward: the ReLU mask needs the output y");
  if (relu) check_f32(args.y, "y");
  const int64_t C = args.x->shape().back();
  const int64_t rows = args.x->numel() / C;
  const float* dy = args.dy->data<float>();
  const float* x = args.x->data<float>();
  const float* y = relu ? args.y->data<float>() : nullptr;
  const float* mean = args.save_mean->data<float>();
  const float* invstd = args.save_invstd->data<float>();
  const float* gamma = args.gamma->data<float>();

  // acc[0, C): sum of dy_m; acc[C, 2C): sum of dy_m * xhat.
  const std::vector<double> sums = sum_over_rows(rows, 2 * C, [&](int64_t i, double* acc) {
    const float *dyi = dy + i * C, *xi = x + i * C, *yi = relu ? y + i * C : nullptr;
    for (int64_t c = 0; c < C; ++c) {
      const float g = relu && yi[c] <= 0.0f ? 0.0f : dyi[c];
      acc[c] += g;
      acc[C + c] += g * (xi[c] - mean[c]) * invstd[c];
    }
  });

  // The formula expanded per channel: dx = per_dy * dy_m + per_centred * (x - mean) + offset,
  //   per_dy = gamma * invstd,  per_centred = -gamma * invstd^2 * dgamma / n,
  //   offset = -gamma * invstd * dbeta / n.
  float* dgamma = args.dgamma->data<float>();
  float* dbeta = args.dbeta->data<float>();
  std::vector<float> per_dy(C), per_centred(C), offset(C);
  const double n = static_cast<double>(rows);
  for (int64_t c = 0; c < C; ++c) {
    dbeta[c] = static_cast<float>(sums[c]);
    dgamma[c] = static_cast<float>(sums[C + c]);
    const double gamma_invstd = static_cast<double>(gamma[c]) * invstd[c];
    per_dy[c] = static_cast<float>(gamma_invstd);
    per_centred[c] = static_cast<float>(-gamma_invstd * invstd[c] * sums[C + c] / n);
    offset[c] = static_cast<float>(-gamma_invstd * sums[c] / n);
  }

  float* dx = args.dx->data<float>();
  float* dz = args.dz ? args.dz->data<float>() : nullptr;
#pragma omp parallel for schedule(static) if (rows * C >= cpu::kParallelThreshold)
  for (int64_t i = 0; i < rows; ++i) {
    const float *dyi = dy + i * C, *xi = x + i * C, *yi = relu ? y + i * C : nullptr;
    float* dxi = dx + i * C;
    for (int64_t c = 0; c < C; ++c) {
      const float g = relu && yi[c] <= 0.0f ? 0.0f : dyi[c];
      dxi[c] = per_dy[c] * g + per_centred[c] * (xi[c] - mean[c]) + offset[c];
    }
    if (dz != nullptr) {
      float* dzi = dz + i * C;
      for (int64_t c = 0; c < C; ++c) dzi[c] = relu && yi[c] <= 0.0f ? 0.0f : dyi[c];
    }
  }
}

}  // namespace remix
