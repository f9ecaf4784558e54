// The naive definitions of the optimised CPU kernels (see reference.h): loops that read like the
// formulas, sums in double.
#include "tensor/cpu/reference.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tensor/cpu/parallel.h"

namespace remix::cpu {
namespace {

std::atomic<bool>& reference_flag() {
  static std::atomic<bool> flag{[] {
    const char* value = std::getenv("REMIX_CPU_REFERENCE");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }()};
  return flag;
}

// The input pixel under tap (r, s) of output pixel (p, q), or -1 when it falls in the padding.
int64_t input_pixel(const Conv2dGeometry& g, int64_t n, int64_t p, int64_t q, int64_t r,
                    int64_t s) {
  const int64_t h = p * g.stride_h - g.pad_h + r, w = q * g.stride_w - g.pad_w + s;
  if (h < 0 || h >= g.H || w < 0 || w >= g.W) return -1;
  return (n * g.H + h) * g.W + w;
}

}  // namespace

bool reference_kernels_enabled() {
  return reference_flag().load(std::memory_order_relaxed);
}

void set_reference_kernels(bool enabled) {
  reference_flag().store(enabled);
}

namespace reference {

void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        const float a_ip = transpose_a ? a[p * lda + i] : a[i * lda + p];
        const float b_pj = transpose_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += double(a_ip) * b_pj;
      }
      const double before = beta == 0.0f ? 0.0 : double(beta) * c[i * ldc + j];
      c[i * ldc + j] = static_cast<float>(double(alpha) * sum + before);
    }
  }
}

// Each image's outputs depend on that image only, so the batch is split over the threads; the
// sum over c runs down two contiguous rows (x's pixel, w's tap), which `omp simd` lets the
// compiler add in vector lanes (a reordered sum, still in double).
void conv2d_forward(const float* x, const float* w, const Conv2dGeometry& g, float* y) {
  parallel_for(g.N, g.P * g.Q * g.K * g.R * g.S * g.C, [&](int64_t n_begin, int64_t n_end) {
    for (int64_t n = n_begin; n < n_end; ++n)
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q)
          for (int64_t k = 0; k < g.K; ++k) {
            double sum = 0.0;
            for (int64_t r = 0; r < g.R; ++r)
              for (int64_t s = 0; s < g.S; ++s) {
                const int64_t pixel = input_pixel(g, n, p, q, r, s);
                if (pixel < 0) continue;
                const float* x_row = x + pixel * g.C;
                const float* w_row = w + ((k * g.R + r) * g.S + s) * g.C;
#pragma omp simd reduction(+ : sum)
                for (int64_t c = 0; c < g.C; ++c) sum += double{x_row[c]} * w_row[c];
              }
            y[((n * g.P + p) * g.Q + q) * g.K + k] = static_cast<float>(sum);
          }
  });
}

// Written as the adjoint of the forward loops: every (output pixel, tap) pair sends
// dy * w back to the input pixel it read. Images are independent, as in the forward pass.
void conv2d_backward_data(const float* dy, const float* w, const Conv2dGeometry& g, float* dx) {
  parallel_for(g.N, g.P * g.Q * g.K * g.R * g.S * g.C, [&](int64_t n_begin, int64_t n_end) {
    std::vector<double> sum(static_cast<size_t>(g.H * g.W * g.C));  // one image of dx
    for (int64_t n = n_begin; n < n_end; ++n) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int64_t p = 0; p < g.P; ++p)
        for (int64_t q = 0; q < g.Q; ++q)
          for (int64_t r = 0; r < g.R; ++r)
            for (int64_t s = 0; s < g.S; ++s) {
              const int64_t pixel = input_pixel(g, n, p, q, r, s);
              if (pixel < 0) continue;
              double* dx_row = sum.data() + (pixel - n * g.H * g.W) * g.C;
              for (int64_t k = 0; k < g.K; ++k) {
                const double d = dy[((n * g.P + p) * g.Q + q) * g.K + k];
                const float* w_row = w + ((k * g.R + r) * g.S + s) * g.C;
                for (int64_t c = 0; c < g.C; ++c) dx_row[c] += d * w_row[c];
              }
            }
      for (size_t i = 0; i < sum.size(); ++i)
        dx[n * g.H * g.W * g.C + static_cast<int64_t>(i)] = static_cast<float>(sum[i]);
    }
  });
}

// dw[k,r,s,:] collects dy[n,p,q,k] * x[pixel, :] over every output pixel whose tap (r, s) lands
// inside the image: a row of C sums per tap, split over the threads by output channel.
void conv2d_backward_filter(const float* dy, const float* x, const Conv2dGeometry& g, float* dw) {
  parallel_for(g.K, g.R * g.S * g.C * g.N * g.P * g.Q, [&](int64_t k_begin, int64_t k_end) {
    std::vector<double> sum(static_cast<size_t>(g.C));
    for (int64_t k = k_begin; k < k_end; ++k)
      for (int64_t r = 0; r < g.R; ++r)
        for (int64_t s = 0; s < g.S; ++s) {
          std::fill(sum.begin(), sum.end(), 0.0);
          for (int64_t n = 0; n < g.N; ++n)
            for (int64_t p = 0; p < g.P; ++p)
              for (int64_t q = 0; q < g.Q; ++q) {
                const int64_t pixel = input_pixel(g, n, p, q, r, s);
                if (pixel < 0) continue;
                const double d = dy[((n * g.P + p) * g.Q + q) * g.K + k];
                const float* x_row = x + pixel * g.C;
                for (int64_t c = 0; c < g.C; ++c) sum[c] += d * x_row[c];
              }
          for (int64_t c = 0; c < g.C; ++c)
            dw[((k * g.R + r) * g.S + s) * g.C + c] = static_cast<float>(sum[c]);
        }
  });
}

// ------------------------------------------------------------------------------ batch norm
// x is rows x C (the channel axis last); statistics per channel over the rows.

namespace {

struct Channels {
  int64_t rows, C;
};

Channels channels_of(const Tensor& x) {
  const int64_t C = x.shape().back();
  return {C == 0 ? 0 : x.numel() / C, C};
}

// y = act(gamma * (x - mean) * invstd + beta [+ z])
void normalise(const BatchNormForward& a, const std::vector<double>& mean,
               const std::vector<double>& invstd) {
  const auto [rows, C] = channels_of(*a.x);
  const float *x = a.x->data<float>(), *gamma = a.gamma->data<float>();
  const float* beta = a.beta->data<float>();
  const float* z = a.z ? a.z->data<float>() : nullptr;
  float* y = a.y->data<float>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < C; ++c) {
      double v = gamma[c] * (x[i * C + c] - mean[c]) * invstd[c] + beta[c];
      if (z != nullptr) v += z[i * C + c];
      if (a.activation == BatchNormActivation::relu && v < 0.0) v = 0.0;
      y[i * C + c] = static_cast<float>(v);
    }
}

}  // namespace

// mean = sum(x) / n,  var = sum((x - mean)^2) / n  (two passes),  invstd = 1 / sqrt(var + eps);
// running statistics: (1 - momentum) * old + momentum * new, the variance unbiased (n / (n - 1)).
void batch_norm_forward_training(const BatchNormForward& a) {
  const auto [rows, C] = channels_of(*a.x);
  const float* x = a.x->data<float>();
  std::vector<double> mean(C, 0.0), var(C, 0.0), invstd(C);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < C; ++c) mean[c] += x[i * C + c];
  for (int64_t c = 0; c < C; ++c) mean[c] /= static_cast<double>(rows);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < C; ++c) var[c] += (x[i * C + c] - mean[c]) * (x[i * C + c] - mean[c]);
  const double n = static_cast<double>(rows), m = a.momentum;
  float *running_mean = a.running_mean->data<float>(), *running_var = a.running_var->data<float>();
  for (int64_t c = 0; c < C; ++c) {
    var[c] /= n;
    invstd[c] = 1.0 / std::sqrt(var[c] + a.eps);
    a.save_mean->data<float>()[c] = static_cast<float>(mean[c]);
    a.save_invstd->data<float>()[c] = static_cast<float>(invstd[c]);
    running_mean[c] = static_cast<float>((1 - m) * running_mean[c] + m * mean[c]);
    running_var[c] = static_cast<float>((1 - m) * running_var[c] + m * var[c] * n / (n - 1));
  }
  normalise(a, mean, invstd);
}

void batch_norm_forward_inference(const BatchNormForward& a) {
  const int64_t C = a.x->shape().back();
  std::vector<double> mean(C), invstd(C);
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = a.running_mean->data<float>()[c];
    invstd[c] = 1.0 / std::sqrt(double{a.running_var->data<float>()[c]} + a.eps);
  }
  normalise(a, mean, invstd);
}

// With g = dy masked by the ReLU (y > 0) and xhat = (x - mean) * invstd:
//   dbeta = sum(g),  dgamma = sum(g * xhat),  dz = g,
//   dx = gamma * invstd * (g - dbeta / n - xhat * dgamma / n)
void batch_norm_backward(const BatchNormBackward& a) {
  const auto [rows, C] = channels_of(*a.x);
  const bool relu = a.activation == BatchNormActivation::relu;
  const float *dy = a.dy->data<float>(), *x = a.x->data<float>();
  const float* y = relu ? a.y->data<float>() : nullptr;
  const float *mean = a.save_mean->data<float>(), *invstd = a.save_invstd->data<float>();
  const float* gamma = a.gamma->data<float>();
  const auto g = [&](int64_t i) { return relu && y[i] <= 0.0f ? 0.0 : double{dy[i]}; };
  std::vector<double> dbeta(C, 0.0), dgamma(C, 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < C; ++c) {
      dbeta[c] += g(i * C + c);
      dgamma[c] += g(i * C + c) * (x[i * C + c] - mean[c]) * invstd[c];
    }
  const double n = static_cast<double>(rows);
  float* dx = a.dx->data<float>();
  float* dz = a.dz != nullptr ? a.dz->data<float>() : nullptr;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < C; ++c) {
      const double xhat = (x[i * C + c] - mean[c]) * invstd[c];
      dx[i * C + c] = static_cast<float>(gamma[c] * invstd[c] *
                                         (g(i * C + c) - dbeta[c] / n - xhat * dgamma[c] / n));
      if (dz != nullptr) dz[i * C + c] = static_cast<float>(g(i * C + c));
    }
  for (int64_t c = 0; c < C; ++c) {
    a.dbeta->data<float>()[c] = static_cast<float>(dbeta[c]);
    a.dgamma->data<float>()[c] = static_cast<float>(dgamma[c]);
  }
}

}  // namespace reference
}  // namespace remix::cpu
