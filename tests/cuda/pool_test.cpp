// The CUDA pooling kernels against the CPU backend: max and average pooling, forward and
// backward, with overlapping windows, padding, ceil_mode windows that overhang the input
// (PyramidNet's 2x2 stride-2 shortcut on odd sizes) and non-square kernels, in f32, f16, bf16.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::kFloatTypes;
using testing::matches_cpu;
using testing::random_integers;
using testing::random_tensor;
using testing::rounded;
using testing::to_gpu;

struct PoolCase {
  Shape x;
  int64_t R, S, stride_h, stride_w, pad_h, pad_w;
  bool ceil_mode;
};

const PoolCase kCases[] = {
    {{2, 9, 9, 5}, 3, 3, 2, 2, 1, 1, false},  // overlapping windows with padding
    {{2, 9, 9, 5}, 3, 3, 2, 2, 1, 1, true},
    {{1, 7, 7, 13}, 2, 2, 2, 2, 0, 0, true},  // the last window hangs off the input
    {{3, 8, 6, 3}, 2, 2, 2, 2, 0, 0, false},
    {{1, 5, 6, 3}, 3, 3, 1, 1, 1, 1, false},
    {{2, 6, 7, 5}, 2, 3, 2, 1, 1, 1, true},  // non-square kernel and stride
};

PoolGeometry geometry(const PoolCase& pc) {
  return make_pool_geometry(pc.x, pc.R, pc.S, pc.stride_h, pc.stride_w, pc.pad_h, pc.pad_w,
                            pc.ceil_mode);
}

::testing::Message describe(const PoolCase& pc, DType dtype) {
  return ::testing::Message() << to_string(pc.x) << " kernel " << pc.R << "x" << pc.S << " stride "
                              << pc.stride_h << "x" << pc.stride_w << " pad " << pc.pad_h << "x"
                              << pc.pad_w << " ceil " << pc.ceil_mode << " " << dtype_name(dtype);
}

TEST(CudaPool, MaxPoolingForwardAndBackwardMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(30);
  for (const PoolCase& pc : kCases) {
    const PoolGeometry g = geometry(pc);
    const Tensor x = random_tensor(pc.x, gen);
    const Tensor dy = random_tensor({g.N, g.P, g.Q, g.C}, gen);
    for (DType dtype : kFloatTypes) {
      SCOPED_TRACE(describe(pc, dtype));
      const Tensor x_cpu = rounded(x, dtype), dy_cpu = rounded(dy, dtype);
      const Tensor y_cpu = prim::max_pool2d_forward(x_cpu, g);
      const Tensor x_gpu = to_gpu(x, dtype);
      const Tensor y_gpu = prim::max_pool2d_forward(x_gpu, g);
      EXPECT_TRUE(matches_cpu(y_gpu, y_cpu, dtype));
      EXPECT_TRUE(matches_cpu(prim::max_pool2d_backward(to_gpu(dy, dtype), x_gpu, y_gpu, g),
                              prim::max_pool2d_backward(dy_cpu, x_cpu, y_cpu, g), dtype));
    }
  }
}

TEST(CudaPool, MaxPoolingRoutesTiesToTheFirstMaximumAsTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(31);
  const PoolCase pc = kCases[0];
  const PoolGeometry g = geometry(pc);
  const Tensor x = random_integers(pc.x, gen, 0, 2);  // many equal values per window
  const Tensor dy = random_tensor({g.N, g.P, g.Q, g.C}, gen);
  const Tensor y = prim::max_pool2d_forward(x, g);
  const Tensor x_gpu = to_gpu(x), y_gpu = prim::max_pool2d_forward(x_gpu, g);
  EXPECT_TRUE(matches_cpu(prim::max_pool2d_backward(to_gpu(dy), x_gpu, y_gpu, g),
                          prim::max_pool2d_backward(dy, x, y, g), DType::f32));
}

// A window holding NaN outputs NaN, and its gradient goes to the element the CPU picks (the last
// NaN of the window), also with -inf values and windows that hold two NaNs.
TEST(CudaPool, MaxPoolingRoutesTheGradientOfANanWindowAsTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(32);
  const PoolCase pc = kCases[0];
  const PoolGeometry g = geometry(pc);
  std::vector<float> values = random_tensor(pc.x, gen).to_vector<float>();
  for (size_t i = 0; i < values.size(); i += 7) values[i] = std::nanf("");
  for (size_t i = 3; i < values.size(); i += 11) values[i] = -INFINITY;
  const Tensor x = Tensor::from_vector(values, pc.x);
  const Tensor dy = random_tensor({g.N, g.P, g.Q, g.C}, gen);
  for (DType dtype : kFloatTypes) {
    SCOPED_TRACE(describe(pc, dtype));
    const Tensor x_cpu = rounded(x, dtype), dy_cpu = rounded(dy, dtype);
    const Tensor y_cpu = prim::max_pool2d_forward(x_cpu, g);
    const Tensor x_gpu = to_gpu(x, dtype), y_gpu = prim::max_pool2d_forward(x_gpu, g);
    EXPECT_TRUE(matches_cpu(y_gpu, y_cpu, dtype));
    EXPECT_TRUE(matches_cpu(prim::max_pool2d_backward(to_gpu(dy, dtype), x_gpu, y_gpu, g),
                            prim::max_pool2d_backward(dy_cpu, x_cpu, y_cpu, g), dtype));
  }
}

TEST(CudaPool, AveragePoolingForwardAndBackwardMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(32);
  for (const PoolCase& pc : kCases) {
    const PoolGeometry g = geometry(pc);
    const Tensor x = random_tensor(pc.x, gen);
    const Tensor dy = random_tensor({g.N, g.P, g.Q, g.C}, gen);
    for (DType dtype : kFloatTypes) {
      SCOPED_TRACE(describe(pc, dtype));
      EXPECT_TRUE(matches_cpu(prim::avg_pool2d_forward(to_gpu(x, dtype), g),
                              prim::avg_pool2d_forward(rounded(x, dtype), g), dtype));
      EXPECT_TRUE(matches_cpu(prim::avg_pool2d_backward(to_gpu(dy, dtype), g),
                              prim::avg_pool2d_backward(rounded(dy, dtype), g), dtype));
    }
  }
}

}  // namespace
}  // namespace remix
