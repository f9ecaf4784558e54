// The CUDA softmax family against the CPU backend: log-softmax forward and backward over the
// last axis (short rows, rows longer than a warp, a 3-d tensor), the soft-target cross entropy
// forward and backward (one-hot, smoothed and mixed targets), and one-hot targets.
#include <gtest/gtest.h>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::kFloatTypes;
using testing::matches_cpu;
using testing::random_tensor;
using testing::rounded;
using testing::same_bytes;
using testing::to_gpu;

TEST(CudaSoftmax, LogSoftmaxForwardAndBackwardMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(50);
  for (const Shape& shape : {Shape{5, 13}, Shape{2, 3, 37}, Shape{4, 1000}, Shape{1, 1}}) {
    const Tensor x = random_tensor(shape, gen, -4.0, 4.0);
    const Tensor dy = random_tensor(shape, gen);
    for (DType dtype : kFloatTypes) {
      SCOPED_TRACE(::testing::Message() << to_string(shape) << " " << dtype_name(dtype));
      const Tensor y_cpu = prim::log_softmax_forward(rounded(x, dtype));
      const Tensor y_gpu = prim::log_softmax_forward(to_gpu(x, dtype));
      EXPECT_TRUE(matches_cpu(y_gpu, y_cpu, dtype, 4.0));
      // The backward is compared on the same y, the GPU's, rounded as the GPU stored it.
      const Tensor y_seen = y_gpu.to(Device::cpu()).to(DType::f32);
      EXPECT_TRUE(matches_cpu(prim::log_softmax_backward(to_gpu(dy, dtype), y_gpu),
                              prim::log_softmax_backward(rounded(dy, dtype), y_seen), dtype, 4.0));
    }
  }
}

// Rows of non-negative weights summing to one.
Tensor soft_targets(int64_t N, int64_t K, Generator& gen) {
  std::vector<float> t(static_cast<size_t>(N * K));
  for (int64_t n = 0; n < N; ++n) {
    double sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += t[n * K + k] = static_cast<float>(gen.uniform());
    for (int64_t k = 0; k < K; ++k) t[n * K + k] = static_cast<float>(t[n * K + k] / sum);
  }
  return Tensor::from_vector(t, {N, K});
}

Tensor random_labels(int64_t N, int64_t K, Generator& gen) {
  std::vector<int32_t> labels(static_cast<size_t>(N));
  for (int32_t& l : labels) l = static_cast<int32_t>(gen.randint(K));
  return Tensor::from_vector(labels);
}

TEST(CudaSoftmax, CrossEntropyForwardAndBackwardMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(51);
  for (const auto& [N, K] : {std::pair<int64_t, int64_t>{7, 10}, {1, 5}, {3, 1000}, {33, 100}}) {
    const Tensor logits = random_tensor({N, K}, gen, -5.0, 5.0);
    const Tensor dloss = random_tensor({N}, gen);
    const Tensor targets[] = {soft_targets(N, K, gen),
                              prim::one_hot(random_labels(N, K, gen), K, 0.1),
                              prim::one_hot(random_labels(N, K, gen), K)};
    for (const Tensor& t : targets) {
      SCOPED_TRACE(::testing::Message() << N << " x " << K);
      const Tensor logits_gpu = to_gpu(logits), t_gpu = to_gpu(t);
      EXPECT_TRUE(matches_cpu(prim::cross_entropy_forward(logits_gpu, t_gpu),
                              prim::cross_entropy_forward(logits, t), DType::f32, 4.0));
      EXPECT_TRUE(matches_cpu(prim::cross_entropy_backward(to_gpu(dloss), logits_gpu, t_gpu),
                              prim::cross_entropy_backward(dloss, logits, t), DType::f32));
    }
  }
}

TEST(CudaSoftmax, OneHotMatchesTheCpuWithAndWithoutSmoothing) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(52);
  for (int64_t K : {1, 10, 37}) {
    const Tensor labels = random_labels(9, K, gen);
    for (double smoothing : {0.0, 0.1}) {
      SCOPED_TRACE(::testing::Message() << K << " classes, smoothing " << smoothing);
      EXPECT_TRUE(same_bytes(prim::one_hot(to_gpu(labels), K, smoothing),
                             prim::one_hot(labels, K, smoothing)));
    }
  }
}

}  // namespace
}  // namespace remix
