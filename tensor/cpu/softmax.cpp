// Log-softmax over the last axis, the soft-target cross entropy, and one-hot targets, on the CPU
// (f32). Each row of K values is handled by one thread.
//
// Stability: log_softmax(z)_k = z_k - m - log(sum_j exp(z_j - m)) with m = max_j z_j, so the
// exponentials never overflow and the largest one is exactly 1. The cross entropy
//   loss = -sum_k t_k * log_softmax(z)_k
// is computed from the same log-sum-exp without forming the softmax, and its gradient is fused:
//   dz_k = dloss * (softmax(z)_k * sum_j t_j - t_k),
// which is softmax(z) - t for targets that sum to 1 (one-hot or label-smoothed).
#include <algorithm>
#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {
namespace {

void check_f32(const Tensor& t, const char* what) {
  REMIX_CHECK(t.dtype() == DType::f32,
              "softmax/cross entropy on the CPU computes in f32, but {} is {}", what,
              dtype_name(t.dtype()));
}

// A row's maximum m and log(sum_j exp(z_j - m)), so that log_softmax(z)_k = (z_k - m) - log_sum.
// Subtracting m first keeps z_k - m exact for the large entries even when |m| is large.
struct RowNormalizer {
  float max;
  double log_sum;
  double log_softmax(float z) const { return static_cast<double>(z - max) - log_sum; }
};

RowNormalizer row_normalizer(const float* z, int64_t K) {
  const float m = *std::max_element(z, z + K);
  double sum = 0.0;
  for (int64_t k = 0; k < K; ++k) sum += std::exp(static_cast<double>(z[k] - m));
  return {m, std::log(sum)};
}

}  // namespace

void CpuBackend::log_softmax_forward(const Tensor& x, Tensor& y) {
  check_f32(x, "x");
  const int64_t K = x.shape().back();
  const int64_t rows = K == 0 ? 0 : x.numel() / K;
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static) if (x.numel() >= cpu::kParallelThreshold)
  for (int64_t i = 0; i < rows; ++i) {
    const RowNormalizer row = row_normalizer(xp + i * K, K);
    for (int64_t k = 0; k < K; ++k)
      yp[i * K + k] = static_cast<float>(row.log_softmax(xp[i * K + k]));
  }
}

// dx = dy - exp(y) * sum(dy): exp(y) is the softmax.
void CpuBackend::log_softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  check_f32(dy, "dy");
  check_f32(y, "y");
  const int64_t K = y.shape().back();
  const int64_t rows = K == 0 ? 0 : y.numel() / K;
  const float* dyp = dy.data<float>();
  const float* yp = y.data<float>();
  float* dxp = dx.data<float>();
#pragma omp parallel for schedule(static) if (y.numel() >= cpu::kParallelThreshold)
  for (int64_t i = 0; i < rows; ++i) {
    double dy_sum = 0.0;
    for (int64_t k = 0; k < K; ++k) dy_sum += dyp[i * K + k];
    for (int64_t k = 0; k < K; ++k)
      dxp[i * K + k] = static_cast<float>(dyp[i * K + k] - std::exp(yp[i * K + k]) * dy_sum);
  }
}

// loss = -sum_k t_k * log_softmax(z)_k.
void CpuBackend::cross_entropy_forward(const Tensor& logits, const Tensor& targets, Tensor& loss) {
  check_f32(logits, "logits");
  check_f32(targets, "targets");
  const int64_t N = logits.size(0), K = logits.size(1);
  const float* z = logits.data<float>();
  const float* t = targets.data<float>();
  float* out = loss.data<float>();
#pragma omp parallel for schedule(static) if (logits.numel() >= cpu::kParallelThreshold)
  for (int64_t n = 0; n < N; ++n) {
    const RowNormalizer row = row_normalizer(z + n * K, K);
    double value = 0.0;
    for (int64_t k = 0; k < K; ++k)
      value -= static_cast<double>(t[n * K + k]) * row.log_softmax(z[n * K + k]);
    out[n] = static_cast<float>(value);
  }
}

void CpuBackend::cross_entropy_backward(const Tensor& dloss, const Tensor& logits,
                                        const Tensor& targets, Tensor& dlogits) {
  check_f32(dloss, "dloss");
  check_f32(logits, "logits");
  check_f32(targets, "targets");
  const int64_t N = logits.size(0), K = logits.size(1);
  const float* g = dloss.data<float>();
  const float* z = logits.data<float>();
  const float* t = targets.data<float>();
  float* dz = dlogits.data<float>();
#pragma omp parallel for schedule(static) if (logits.numel() >= cpu::kParallelThreshold)
  for (int64_t n = 0; n < N; ++n) {
    const RowNormalizer row = row_normalizer(z + n * K, K);
    double t_sum = 0.0;
    for (int64_t k = 0; k < K; ++k) t_sum += t[n * K + k];
    for (int64_t k = 0; k < K; ++k) {
      const double softmax = std::exp(row.log_softmax(z[n * K + k]));
      dz[n * K + k] = static_cast<float>(g[n] * (softmax * t_sum - t[n * K + k]));
    }
  }
}

void CpuBackend::one_hot(const Tensor& labels, double on_value, double off_value, Tensor& out) {
  REMIX_CHECK(labels.dtype() == DType::i32 && out.dtype() == DType::f32,
              "one_hot: expected i32 labels and an f32 output, got {} and {}",
              dtype_name(labels.dtype()), dtype_name(out.dtype()));
  const int64_t N = out.size(0), K = out.size(1);
  const int32_t* label = labels.data<int32_t>();
  float* o = out.data<float>();
  const float on = static_cast<float>(on_value), off = static_cast<float>(off_value);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) o[n * K + k] = label[n] == k ? on : off;
}

}  // namespace remix
