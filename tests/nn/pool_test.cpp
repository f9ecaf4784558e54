// Pooling layers against naive loops (PyTorch's output sizes, ceil mode, clipped windows).
#include "nn/pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

// Max or average over each window; average divides by the window clipped to the padded input.
Tensor naive_pool(const Tensor& x, int64_t k, int64_t stride, int64_t pad, bool ceil_mode,
                  bool average) {
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  auto out_size = [&](int64_t in) {
    const int64_t span = in + 2 * pad - k;
    int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) --out;
    return out;
  };
  const int64_t P = out_size(H), Q = out_size(W);
  const auto xv = x.to_vector<float>();
  std::vector<float> y(N * P * Q * C);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t h0 = p * stride - pad, w0 = q * stride - pad;
          const int64_t h1 = std::min(h0 + k, H + pad), w1 = std::min(w0 + k, W + pad);
          double acc = average ? 0.0 : -std::numeric_limits<double>::infinity();
          for (int64_t h = std::max<int64_t>(h0, 0); h < std::min(h1, H); ++h)
            for (int64_t w = std::max<int64_t>(w0, 0); w < std::min(w1, W); ++w) {
              const double v = xv[((n * H + h) * W + w) * C + c];
              acc = average ? acc + v : std::max(acc, v);
            }
          if (average) acc /= static_cast<double>((h1 - h0) * (w1 - w0));
          y[((n * P + p) * Q + q) * C + c] = static_cast<float>(acc);
        }
  return Tensor::from_vector(y, {N, P, Q, C});
}

TEST(MaxPool2d, MatchesANaiveLoopWithPadding) {
  Generator gen(1);
  MaxPool2d pool({3, 2, 1});
  const Tensor x = testing::random_tensor({2, 7, 6, 3}, gen);
  EXPECT_TRUE(testing::all_close(pool.forward(x), naive_pool(x, 3, 2, 1, false, false)));
}

TEST(AvgPool2d, MatchesANaiveLoopInCeilModeWithClippedWindows) {
  Generator gen(2);
  AvgPool2d pool({2, 2, 0, true});
  const Tensor x = testing::random_tensor({2, 5, 5, 3}, gen);
  const Tensor y = pool.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 3, 3}));
  EXPECT_TRUE(testing::all_close(y, naive_pool(x, 2, 2, 0, true, true)));
}

TEST(AvgPool2d, WithAOneByOneWindowSubsamplesEveryOtherPixel) {
  Generator gen(3);
  AvgPool2d pool({1, 2});
  const Tensor x = testing::random_tensor({1, 4, 4, 2}, gen);
  const auto xv = x.to_vector<float>();
  const auto yv = pool.forward(x).to_vector<float>();
  ASSERT_EQ(yv.size(), 2u * 2 * 2);
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 2; ++q)
      for (int c = 0; c < 2; ++c)
        EXPECT_EQ(yv[(p * 2 + q) * 2 + c], xv[((2 * p) * 4 + 2 * q) * 2 + c]);
}

TEST(GlobalAvgPool, AveragesEachChannelOverHeightAndWidth) {
  Generator gen(4);
  GlobalAvgPool pool;
  const Tensor x = testing::random_tensor({2, 3, 2, 4}, gen);
  const auto xv = x.to_vector<float>();
  std::vector<float> y(2 * 4, 0.f);
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 6; ++i)
      for (int c = 0; c < 4; ++c) y[n * 4 + c] += xv[(n * 6 + i) * 4 + c] / 6.f;
  EXPECT_TRUE(testing::all_close(pool.forward(x), Tensor::from_vector(y, {2, 4})));
}

TEST(Pool2d, RejectsImpossibleOptions) {
  EXPECT_THROW(MaxPool2d({0, 1}), Error);
  EXPECT_THROW(AvgPool2d({2, 2, 2}), Error);
}

}  // namespace
}  // namespace remix::nn
