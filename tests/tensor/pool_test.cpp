// The CPU pooling primitives against their definitions (tensor/cpu/reference_pooling.cpp) and
// hand-worked windows: max pooling with -inf padding and the gradient
// routed to the first maximum of each window; average pooling with PyTorch's count_include_pad
// divisor (the window clipped to the padded input); ceil_mode windows that hang off the input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tensor/cpu/reference.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::random_tensor;

struct PoolCase {
  Shape x;
  int64_t R, S, stride_h, stride_w, pad_h, pad_w;
  bool ceil_mode;
};

PoolGeometry geometry(const PoolCase& pc) {
  return make_pool_geometry(pc.x, pc.R, pc.S, pc.stride_h, pc.stride_w, pc.pad_h, pc.pad_w,
                            pc.ceil_mode);
}

// The fast kernels against the definitions (tensor/cpu/reference_pooling.cpp) on random data.
void expect_pooling_matches_reference(const PoolCase& pc, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "x " << to_string(pc.x) << " kernel " << pc.R << "x" << pc.S
                                    << " stride " << pc.stride_h << "x" << pc.stride_w << " pad "
                                    << pc.pad_h << "x" << pc.pad_w << " ceil " << pc.ceil_mode);
  Generator gen(seed);
  const PoolGeometry g = geometry(pc);
  const Shape ys{g.N, g.P, g.Q, g.C};
  const Tensor x = random_tensor(pc.x, gen), dy = random_tensor(ys, gen);
  Tensor max_y(ys), max_dx(pc.x), avg_y(ys), avg_dx(pc.x);
  cpu::reference::max_pool2d_forward(x.data<float>(), g, max_y.data<float>());
  cpu::reference::max_pool2d_backward(dy.data<float>(), x.data<float>(), g, max_dx.data<float>());
  cpu::reference::avg_pool2d_forward(x.data<float>(), g, avg_y.data<float>());
  cpu::reference::avg_pool2d_backward(dy.data<float>(), g, avg_dx.data<float>());

  const Tensor y = prim::max_pool2d_forward(x, g);
  EXPECT_TRUE(all_close(y, max_y, 0, 0));
  EXPECT_TRUE(all_close(prim::max_pool2d_backward(dy, x, y, g), max_dx));
  EXPECT_TRUE(all_close(prim::avg_pool2d_forward(x, g), avg_y));
  EXPECT_TRUE(all_close(prim::avg_pool2d_backward(dy, g), avg_dx));
}

// The hand-worked cases run on the fast kernel and on the definition; the comparison of the two
// on random data forces the fast kernel, whatever REMIX_CPU_REFERENCE says.
class Pool2d : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(FastAndReference, Pool2d, testing::kFastAndReferenceKernels,
                         testing::cpu_kernel_name);
class Pool2dFast : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(Fast, Pool2dFast, testing::kFastKernels, testing::cpu_kernel_name);

TEST_P(Pool2dFast, MatchesTheReferenceLoopsOnOddShapes) {
  const std::vector<PoolCase> cases = {
      {{2, 8, 8, 5}, 3, 3, 2, 2, 1, 1, false},   // the ResNet stem: 3x3, stride 2, padding 1
      {{1, 6, 7, 3}, 2, 2, 2, 2, 0, 0, false},   // 2x2 halving, odd width drops a column
      {{2, 7, 5, 13}, 3, 2, 2, 1, 1, 0, false},  // non-square kernel and strides
      {{1, 5, 5, 3}, 1, 1, 2, 2, 0, 0, false},   // 1x1 subsampling
      {{1, 4, 4, 5}, 4, 4, 1, 1, 2, 2, false},   // padding 2, windows mostly padding
      {{2, 8, 8, 64}, 8, 8, 8, 8, 0, 0, false},  // global average pooling of ResNet-20's head
  };
  for (size_t i = 0; i < cases.size(); ++i) expect_pooling_matches_reference(cases[i], 20 + i);
}

TEST_P(Pool2dFast, CeilModeKeepsThePartialLastWindow) {
  const std::vector<PoolCase> cases = {
      {{2, 6, 6, 3}, 3, 3, 2, 2, 0, 0, true},   // last window covers 2 of its 3 rows
      {{1, 6, 8, 5}, 3, 3, 2, 2, 1, 1, true},   // partial window that includes padding
      {{2, 5, 9, 13}, 2, 3, 2, 3, 0, 1, true},  // non-square, padding on one axis only
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const PoolGeometry with_ceil = geometry(cases[i]);
    PoolCase floor_case = cases[i];
    floor_case.ceil_mode = false;
    EXPECT_GT(with_ceil.P * with_ceil.Q, geometry(floor_case).P * geometry(floor_case).Q)
        << "case " << i << " should gain a partial window from ceil_mode";
    expect_pooling_matches_reference(cases[i], 40 + i);
  }
}

// avg_pool2d(kernel 2, stride 2, padding 1) of [[1,2,3],[4,5,6],[7,8,9]] in PyTorch:
// every window is clipped to the padded 5x5 input only, so each divides by 4:
// [[1/4, (2+3)/4], [(4+7)/4, (5+6+8+9)/4]].
TEST_P(Pool2d, AveragePoolingCountsPaddingInTheDivisor) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
  const PoolGeometry g = make_pool_geometry(x.shape(), 2, 2, 2, 2, 1, 1, false);
  const Tensor expected = Tensor::from_vector<float>({0.25f, 1.25f, 2.75f, 7.0f}, {1, 2, 2, 1});
  EXPECT_TRUE(all_close(prim::avg_pool2d_forward(x, g), expected));
}

// With ceil_mode a window may reach past the padded input; that part is not counted:
// avg_pool2d([1, 2, 3, 4, 5], kernel 2, stride 2, ceil_mode) = [1.5, 3.5, 5 / 1].
TEST_P(Pool2d, CeilModeWindowsPastThePaddedInputAreNotCounted) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {1, 1, 5, 1});
  const PoolGeometry g = make_pool_geometry(x.shape(), 1, 2, 1, 2, 0, 0, true);
  EXPECT_TRUE(all_close(prim::avg_pool2d_forward(x, g),
                        Tensor::from_vector<float>({1.5f, 3.5f, 5.0f}, {1, 1, 3, 1})));
  const Tensor dx =
      prim::avg_pool2d_backward(Tensor::from_vector<float>({2, 4, 6}, {1, 1, 3, 1}), g);
  EXPECT_TRUE(all_close(dx, Tensor::from_vector<float>({1, 1, 2, 2, 6}, {1, 1, 5, 1})));
}

// Ties: the whole gradient of a window goes to its first maximum (row-major order), never to
// padding, even when every input value is negative.
TEST_P(Pool2d, MaxPoolingRoutesTheGradientToTheFirstMaximum) {
  const Tensor x = Tensor::from_vector<float>({-3, -3, -3, -3}, {1, 2, 2, 1});
  const PoolGeometry g = make_pool_geometry(x.shape(), 2, 2, 1, 1, 1, 1, false);  // 3x3 output
  const Tensor y = prim::max_pool2d_forward(x, g);
  EXPECT_TRUE(all_close(y, Tensor::from_vector<float>(std::vector<float>(9, -3.0f), {1, 3, 3, 1})));
  const Tensor dy = Tensor::from_vector<float>({1, 2, 4, 8, 16, 32, 64, 128, 256}, {1, 3, 3, 1});
  // Output (p, q) sees input rows p-1..p and columns q-1..q; its first valid cell gets dy.
  const Tensor expected =
      Tensor::from_vector<float>({1 + 2 + 8 + 16, 4 + 32, 64 + 128, 256}, {1, 2, 2, 1});
  EXPECT_TRUE(all_close(prim::max_pool2d_backward(dy, x, y, g), expected, 0, 0));
}

// A NaN in a window is its maximum, as in PyTorch, and receives the window's gradient.
TEST_P(Pool2d, MaxPoolingLetsANanWinAndSendsItTheGradient) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = Tensor::from_vector<float>({1, nan, 5, 2}, {1, 2, 2, 1});
  const PoolGeometry g = make_pool_geometry(x.shape(), 2, 2, 2, 2, 0, 0, false);  // one window
  const Tensor y = prim::max_pool2d_forward(x, g);
  EXPECT_TRUE(std::isnan(y.to_vector<float>()[0]));
  const Tensor dx =
      prim::max_pool2d_backward(Tensor::from_vector<float>({3}, {1, 1, 1, 1}), x, y, g);
  EXPECT_EQ(dx.to_vector<float>(), (std::vector<float>{0, 3, 0, 0}));
}

}  // namespace
}  // namespace remix
