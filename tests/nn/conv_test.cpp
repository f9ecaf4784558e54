// Conv2d layer: forward against a naive loop, gradients through input, weight and bias.
#include "nn/conv.h"

#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "nn/init.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

// y[n,p,q,k] = b[k] + sum_{r,s,c} x[n, p*stride - pad + r, q*stride - pad + s, c] * w[k,r,s,c]
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor& b, int64_t stride, int64_t pad) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const int64_t K = w.size(0), R = w.size(1), S = w.size(2);
  const int64_t P = (H + 2 * pad - R) / stride + 1, Q = (W + 2 * pad - S) / stride + 1;
  const auto xv = x.to_vector<float>(), wv = w.to_vector<float>();
  const auto bv = b.defined() ? b.to_vector<float>() : std::vector<float>(K, 0.f);
  std::vector<float> y(N * P * Q * K);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q)
        for (int64_t k = 0; k < K; ++k) {
          double acc = bv[k];
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
              const int64_t h = p * stride - pad + r, v = q * stride - pad + s;
              if (h < 0 || h >= H || v < 0 || v >= W) continue;
              for (int64_t c = 0; c < C; ++c)
                acc += xv[((n * H + h) * W + v) * C + c] * wv[((k * R + r) * S + s) * C + c];
            }
          y[((n * P + p) * Q + q) * K + k] = static_cast<float>(acc);
        }
  return Tensor::from_vector(y, {N, P, Q, K});
}

TEST(Conv2d, HoldsAKrscWeightAndAnOptionalBias) {
  Generator gen(1);
  Conv2d with_bias({3, 8, 3, 1, 1, true}, gen), without({3, 8, 5, 2, 2, false}, gen);
  EXPECT_EQ(with_bias.weight().shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(with_bias.named_parameters().size(), 2u);
  EXPECT_EQ(without.weight().shape(), (Shape{8, 5, 5, 3}));
  EXPECT_EQ(without.named_parameters().size(), 1u);
  EXPECT_FALSE(without.bias().defined());
}

TEST(Conv2d, MatchesANaiveLoopWithStridePaddingAndBias) {
  Generator gen(2);
  Conv2d conv({3, 4, 3, 2, 1, true}, gen);
  init::uniform(conv.bias(), -1, 1, gen);
  const Tensor x = testing::random_tensor({2, 7, 6, 3}, gen);
  EXPECT_TRUE(testing::all_close(conv.forward(x), naive_conv(x, conv.weight(), conv.bias(), 2, 1),
                                 1e-4, 1e-4));
}

TEST(Conv2d, PassesGradientsToItsInputWeightAndBias) {
  Generator gen(3);
  Conv2d conv({2, 3, 3, 1, 1, true}, gen);
  const auto f = [&](const std::vector<Tensor>& in) {
    conv.weight() = in[1];
    conv.bias() = in[2];
    return conv.forward(in[0]);
  };
  EXPECT_TRUE(
      testing::gradient_matches(f, {testing::random_tensor({2, 4, 4, 2}, gen),
                                    conv.weight().clone(), testing::random_tensor({3}, gen)}));
}

TEST(Conv2d, CountsTwoFlopsPerMultiplyAdd) {
  Generator gen(4);
  Conv2d conv({3, 16, 3, 1, 1, false}, gen);
  EXPECT_EQ(conv.forward_flops({2, 8, 8, 16}), 2 * 8 * 8 * 16 * 3 * 3 * 3);
}

TEST(Conv2d, RejectsAnInputWithTheWrongChannelCount) {
  Generator gen(5);
  Conv2d conv({3, 4, 3, 1, 1, false}, gen);
  EXPECT_THROW(conv.forward(Tensor::zeros({1, 4, 4, 2})), Error);
  EXPECT_THROW(Conv2d({0, 4, 3, 1, 1, false}, gen), Error);
}

TEST(Conv2d, ComputesInTheInputDtypeWithAnF32WeightGradientOnTheGpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(6);
  Conv2d conv({8, 8, 3, 1, 1, true}, gen);
  conv.to(Device::cuda());
  const Tensor x = testing::random_tensor({2, 4, 4, 8}, gen).to(Device::cuda()).to(DType::bf16);
  const Tensor y = conv.forward(x);
  EXPECT_EQ(y.dtype(), DType::bf16);
  backward(sum(cast(y, DType::f32)));
  EXPECT_EQ(grad(conv.weight()).dtype(), DType::f32);
  EXPECT_EQ(grad(conv.bias()).dtype(), DType::f32);
}

}  // namespace
}  // namespace remix::nn
