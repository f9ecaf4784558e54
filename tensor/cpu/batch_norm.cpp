// Batch normalisation on the CPU, optionally fused with a residual add and a ReLU:
//   y = act(gamma * (x - mean) * invstd + beta [+ z]),  invstd = 1 / sqrt(var + eps),
// for x of any shape whose last axis is the channel axis C (NHWC or N x C): the statistics of
// channel c are taken over all rows, where a row is one position of the leading axes.
// Training uses the batch mean and biased variance and updates the running statistics as
// PyTorch does (the running variance receives the unbiased estimate var * n / (n - 1)); inference
// uses the running statistics. The definitions, as loops in double, are in reference.cpp.
//
// How it is fast: NHWC puts the C channels of a row side by side, so the row kernels
// (batch_norm_kernel.h) run along a row with vector instructions across channels. Each phase is one
// pass over the rows, threaded: the statistics (both moments at once), then the normalisation
// folded into one multiply-add per element with the add and the ReLU in the same pass. Sums run in
// f32 over blocks of kBlockRows rows and the block sums are added in double, so the rounding error
// does not grow with the batch; the moments are taken of x - x[row 0], which keeps E[d^2] - E[d]^2
// free of cancellation when the mean is large against the spread.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu/batch_norm_kernel.h"
#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/parallel.h"
#include "tensor/cpu/reference.h"

namespace remix {
namespace {

constexpr int64_t kBlockRows = 64;

void check_f32(const Tensor* t, const char* what) {
  if (t == nullptr) return;
  REMIX_CHECK(t->dtype() == DType::f32, "batch_norm on the CPU computes in f32, but {} is {}", what,
              dtype_name(t->dtype()));
}

const cpu::detail::BatchNormKernels& kernels() {
  switch (cpu::active_isa()) {
    case cpu::Isa::avx512: return cpu::detail::avx512_batch_norm_kernels();
    case cpu::Isa::avx2: return cpu::detail::avx2_batch_norm_kernels();
    case cpu::Isa::portable: break;
  }
  return cpu::detail::portable_batch_norm_kernels();
}

// Two per-channel sums over the rows: add_rows(begin, end, s1, s2) adds the terms of rows
// [begin, end) into the f32 vectors s1 and s2 (C each). Rows are cut into blocks; each thread
// adds its blocks' sums into its own double accumulators, and those are added at the end.
// Returns [sum1 (C), sum2 (C)].
template <class AddRows>
std::vector<double> sum_over_rows(int64_t rows, int64_t C, AddRows add_rows) {
  const int threads = rows * C >= cpu::kParallelThreshold ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads * 2 * C), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int64_t team = omp_get_num_threads(), me = omp_get_thread_num();
    double* acc = partial.data() + me * 2 * C;
    std::vector<float> block(static_cast<size_t>(2 * C));
    const int64_t begin = rows * me / team, end = rows * (me + 1) / team;
    for (int64_t b = begin; b < end; b += kBlockRows) {
      std::fill(block.begin(), block.end(), 0.0f);
      add_rows(b, std::min(b + kBlockRows, end), block.data(), block.data() + C);
      for (int64_t c = 0; c < 2 * C; ++c) acc[c] += block[c];
    }
  }
  std::vector<double> total(static_cast<size_t>(2 * C), 0.0);
  for (int t = 0; t < threads; ++t)
    for (int64_t c = 0; c < 2 * C; ++c) total[c] += partial[t * 2 * C + c];
  return total;
}

// y = act(x * scale + shift [+ z]) row by row: the normalisation folded into one affine map.
void apply_affine(const float* x, const float* z, const std::vector<float>& scale,
                  const std::vector<float>& shift, bool relu, int64_t rows, int64_t C, float* y) {
  const cpu::detail::BatchNormKernels& k = kernels();
  cpu::parallel_for(rows, C, [&](int64_t begin, int64_t end) {
    k.affine(x + begin * C, z ? z + begin * C : nullptr, scale.data(), shift.data(), relu,
             end - begin, C, y + begin * C);
  });
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
  if (cpu::reference_kernels_enabled()) return cpu::reference::batch_norm_forward_training(args);
  const int64_t C = args.x->shape().back();
  const int64_t rows = args.x->numel() / C;
  const float* x = args.x->data<float>();

  // The moments of d = x - x[row 0]: mean = x0 + E[d], var = E[d^2] - E[d]^2.
  const float* x0 = x;
  const cpu::detail::BatchNormKernels& k = kernels();
  const std::vector<double> sums =
      sum_over_rows(rows, C, [&](int64_t begin, int64_t end, float* s1, float* s2) {
        k.moments(x + begin * C, end - begin, C, x0, s1, s2);
      });

  std::vector<double> mean(C), invstd(C);
  float* running_mean = args.running_mean->data<float>();
  float* running_var = args.running_var->data<float>();
  float* save_mean = args.save_mean->data<float>();
  float* save_invstd = args.save_invstd->data<float>();
  const double n = static_cast<double>(rows), m = args.momentum;
  for (int64_t c = 0; c < C; ++c) {
    const double mean_d = sums[c] / n;
    mean[c] = x0[c] + mean_d;
    const double var = std::max(sums[C + c] / n - mean_d * mean_d, 0.0);
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
  if (cpu::reference_kernels_enabled()) return cpu::reference::batch_norm_forward_inference(args);
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

// With xhat = (x - mean) * invstd and g the incoming gradient masked by the ReLU (y > 0):
//   dbeta = sum(g),  dgamma = sum(g * xhat),  dz = g,
//   dx = gamma * invstd / n * (n * g - dbeta - xhat * dgamma),  sums over the n rows.
void CpuBackend::batch_norm_backward(const BatchNormBackward& args) {
  check_f32(args.dy, "dy");
  check_f32(args.x, "x");
  const bool relu = args.activation == BatchNormActivation::relu;
  REMIX_CHECK(!relu || args.y != nullptr, "batch_norm_backward: the ReLU mask needs the output y");
  if (relu) check_f32(args.y, "y");
  if (cpu::reference_kernels_enabled()) return cpu::reference::batch_norm_backward(args);
  const int64_t C = args.x->shape().back();
  const int64_t rows = args.x->numel() / C;
  const float* dy = args.dy->data<float>();
  const float* x = args.x->data<float>();
  const float* y = relu ? args.y->data<float>() : nullptr;
  const float* mean = args.save_mean->data<float>();
  const float* gamma = args.gamma->data<float>();

  // sum(g) and sum(g * (x - mean)); dgamma = invstd * the second.
  const cpu::detail::BatchNormKernels& k = kernels();
  const std::vector<double> sums =
      sum_over_rows(rows, C, [&](int64_t begin, int64_t end, float* s1, float* s2) {
        k.grad_sums(dy + begin * C, x + begin * C, y ? y + begin * C : nullptr, mean, end - begin,
                    C, s1, s2);
      });

  // The formula expanded per channel: dx = per_g * g + per_x * (x - mean) + offset,
  //   per_g = gamma * invstd,  per_x = -gamma * invstd^2 * dgamma / n,
  //   offset = -gamma * invstd * dbeta / n.
  const float* invstd = args.save_invstd->data<float>();
  float* dgamma = args.dgamma->data<float>();
  float* dbeta = args.dbeta->data<float>();
  std::vector<float> per_g(C), per_x(C), offset(C);
  const double n = static_cast<double>(rows);
  for (int64_t c = 0; c < C; ++c) {
    const double dgamma_c = sums[C + c] * invstd[c];
    dbeta[c] = static_cast<float>(sums[c]);
    dgamma[c] = static_cast<float>(dgamma_c);
    const double gamma_invstd = static_cast<double>(gamma[c]) * invstd[c];
    const double px = -gamma_invstd * invstd[c] * dgamma_c / n;
    per_g[c] = static_cast<float>(gamma_invstd);
    per_x[c] = static_cast<float>(px);
    offset[c] = static_cast<float>(-gamma_invstd * sums[c] / n);
  }

  float* dx = args.dx->data<float>();
  float* dz = args.dz ? args.dz->data<float>() : nullptr;
  cpu::parallel_for(rows, C, [&](int64_t begin, int64_t end) {
    k.grad_input(dy + begin * C, x + begin * C, y ? y + begin * C : nullptr, mean, per_g.data(),
                 per_x.data(), offset.data(), end - begin, C, dx + begin * C,
                 dz ? dz + begin * C : nullptr);
  });
}

}  // namespace remix
