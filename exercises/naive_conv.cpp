// Exercise 3, a worked solution: seven nested loops and nothing else.
#include "exercises/naive_conv.h"

#include <vector>

#include "tensor/check.h"

namespace remix::exercises {

Tensor naive_conv2d(const Tensor& x, const Tensor& w, int64_t stride, int64_t pad) {
  REMIX_CHECK(x.dim() == 4 && w.dim() == 4 && x.size(3) == w.size(3) && stride > 0 && pad >= 0,
              "naive_conv2d: expected N x H x W x C and K x R x S x C with the same C, got {} and {}",
              to_string(x.shape()), to_string(w.shape()));
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const int64_t K = w.size(0), R = w.size(1), S = w.size(2);
  const int64_t P = (H + 2 * pad - R) / stride + 1, Q = (W + 2 * pad - S) / stride + 1;
  const std::vector<float> xs = x.to_vector<float>(), ws = w.to_vector<float>();
  std::vector<float> y(static_cast<size_t>(N * P * Q * K), 0.0f);
  const auto at = [](int64_t a, int64_t b, int64_t c, int64_t d, int64_t B, int64_t Cn, int64_t D) {
    return static_cast<size_t>(((a * B + b) * Cn + c) * D + d);
  };
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q)
        for (int64_t k = 0; k < K; ++k) {
          double sum = 0;
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
              const int64_t h = p * stride - pad + r, v = q * stride - pad + s;
              if (h < 0 || h >= H || v < 0 || v >= W) continue;
              for (int64_t c = 0; c < C; ++c)
                sum += static_cast<double>(xs[at(n, h, v, c, H, W, C)]) * ws[at(k, r, s, c, R, S, C)];
            }
          y[at(n, p, q, k, P, Q, K)] = static_cast<float>(sum);
        }
  return Tensor::from_vector(y, {N, P, Q, K});
}

}  // namespace remix::exercises
