// The CPU convolution primitives against the loops that define them (tensor/cpu/reference.cpp,
// sums in double): y[n,p,q,k] = sum_{r,s,c} x[n, p*sh - ph + r, q*sw - pw + s, c] w[k,r,s,c],
// and both backward passes as the same sum run in reverse (scatter into dx, sum into dw).
// Every case runs with each micro-kernel this CPU can execute (portable, AVX2, AVX-512).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tensor/cpu/reference.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::all_close;
using testing::random_tensor;

struct ConvCase {
  Shape x, w;  // NHWC, KRSC
  int64_t stride_h, stride_w, pad_h, pad_w;
};

// The definitions, as the backend's reference loops (tensor/cpu/reference.cpp; their own tests,
// against hand-worked cases and the adjoint identities, are in reference_test.cpp).
Tensor reference_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g) {
  Tensor y({g.N, g.P, g.Q, g.K});
  cpu::reference::conv2d_forward(x.data<float>(), w.data<float>(), g, y.data<float>());
  return y;
}

Tensor reference_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g) {
  Tensor dx({g.N, g.H, g.W, g.C});
  cpu::reference::conv2d_backward_data(dy.data<float>(), w.data<float>(), g, dx.data<float>());
  return dx;
}

Tensor reference_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g) {
  Tensor dw({g.K, g.R, g.S, g.C});
  cpu::reference::conv2d_backward_filter(dy.data<float>(), x.data<float>(), g, dw.data<float>());
  return dw;
}

void expect_matches_reference(const ConvCase& cc, uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "x " << to_string(cc.x) << " w " << to_string(cc.w) << " stride " << cc.stride_h
               << "x" << cc.stride_w << " pad " << cc.pad_h << "x" << cc.pad_w);
  Generator gen(seed);
  const Conv2dGeometry g =
      make_conv2d_geometry(cc.x, cc.w, cc.stride_h, cc.stride_w, cc.pad_h, cc.pad_w);
  const Tensor x = random_tensor(cc.x, gen), w = random_tensor(cc.w, gen);
  const Tensor dy = random_tensor({g.N, g.P, g.Q, g.K}, gen);
  EXPECT_TRUE(all_close(prim::conv2d_forward(x, w, g), reference_forward(x, w, g), 1e-4, 1e-4));
  EXPECT_TRUE(all_close(prim::conv2d_backward_data(dy, w, g), reference_backward_data(dy, w, g),
                        1e-4, 1e-4));
  EXPECT_TRUE(all_close(prim::conv2d_backward_filter(dy, x, g), reference_backward_filter(dy, x, g),
                        1e-4, 1e-4));
}

// Every case runs with each instruction set's kernels.
class Conv2dKernels : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(EveryKernel, Conv2dKernels, testing::kEveryInstructionSet,
                         testing::cpu_kernel_name);

TEST_P(Conv2dKernels, MatchesTheReferenceLoopsOnOddShapes) {
  const std::vector<ConvCase> cases = {
      {{2, 7, 5, 3}, {5, 3, 3, 3}, 1, 1, 1, 1},    // 3x3 "same", 3 input channels
      {{1, 8, 9, 13}, {4, 3, 2, 13}, 2, 2, 2, 1},  // non-square kernel, stride 2, padding 2x1
      {{3, 6, 6, 5}, {3, 5, 5, 5}, 1, 1, 2, 2},    // 5x5 with padding 2
      {{2, 9, 7, 5}, {6, 3, 3, 5}, 2, 1, 1, 0},    // different strides per axis
      {{1, 2, 3, 3}, {2, 3, 3, 3}, 1, 1, 1, 1},    // kernel taller than the input
      {{2, 7, 6, 13}, {5, 2, 4, 13}, 3, 2, 1, 2},  // window steps past the last column
  };
  for (size_t i = 0; i < cases.size(); ++i) expect_matches_reference(cases[i], 100 + i);
}

TEST_P(Conv2dKernels, OneByOneConvolutionsMatchWithAndWithoutStride) {
  expect_matches_reference({{3, 4, 5, 13}, {7, 1, 1, 13}, 1, 1, 0, 0}, 1);    // a single GEMM
  expect_matches_reference({{1, 3, 3, 5}, {3, 1, 1, 5}, 1, 1, 0, 0}, 2);      // batch 1
  expect_matches_reference({{2, 5, 6, 5}, {3, 1, 1, 5}, 2, 2, 0, 0}, 3);      // strided: phases
  expect_matches_reference({{2, 4, 4, 3}, {4, 1, 1, 3}, 1, 1, 1, 1}, 4);      // padded
  expect_matches_reference({{2, 8, 8, 64}, {128, 1, 1, 64}, 2, 2, 0, 0}, 5);  // ResNet-18 shortcut
}

// The shapes of the CIFAR ResNets, where the micro-kernels' full tiles do the work: 16, 32 and
// 64 channels (one, two and four vectors of output channels), stride 2 into the next stage.
TEST_P(Conv2dKernels, MatchesTheReferenceLoopsOnResNetLayers) {
  expect_matches_reference({{3, 32, 32, 3}, {16, 3, 3, 3}, 1, 1, 1, 1}, 10);  // the stem
  expect_matches_reference({{2, 32, 32, 16}, {16, 3, 3, 16}, 1, 1, 1, 1}, 11);
  expect_matches_reference({{3, 32, 32, 16}, {32, 3, 3, 16}, 2, 2, 1, 1}, 12);
  expect_matches_reference({{2, 16, 16, 32}, {32, 3, 3, 32}, 1, 1, 1, 1}, 13);
  expect_matches_reference({{2, 8, 8, 64}, {64, 3, 3, 64}, 1, 1, 1, 1}, 14);
  expect_matches_reference({{5, 4, 4, 64}, {128, 3, 3, 64}, 2, 2, 1, 1}, 15);
}

// Channel counts that leave ragged tiles: output channels past the last full vector, input
// channels that do not fill a vector, filter tiles with output channels that are not a multiple
// of the tile's rows (dy is copied with padding then).
TEST_P(Conv2dKernels, MatchesTheReferenceLoopsOnRaggedChannelCounts) {
  expect_matches_reference({{2, 9, 11, 17}, {40, 3, 3, 17}, 1, 1, 1, 1}, 20);
  expect_matches_reference({{3, 6, 7, 7}, {19, 3, 3, 7}, 2, 2, 1, 1}, 21);
  expect_matches_reference({{1, 5, 5, 1}, {1, 3, 3, 1}, 1, 1, 1, 1}, 22);
  expect_matches_reference({{2, 10, 10, 33}, {70, 3, 3, 33}, 1, 1, 0, 0}, 23);
}

// Small images in batches of 8 and more are laid out with the images interleaved, a tile taking
// several images at one pixel (conv_plan.cpp); batches that leave a ragged last tile.
TEST_P(Conv2dKernels, MatchesTheReferenceLoopsWithTheBatchInterleaved) {
  expect_matches_reference({{9, 4, 4, 64}, {64, 3, 3, 64}, 1, 1, 1, 1}, 40);
  expect_matches_reference({{10, 8, 8, 32}, {48, 3, 3, 32}, 2, 2, 1, 1}, 41);
  expect_matches_reference({{8, 8, 8, 16}, {32, 1, 1, 16}, 2, 2, 0, 0}, 42);
  expect_matches_reference({{13, 2, 3, 5}, {7, 3, 3, 5}, 1, 1, 1, 1}, 43);
}

// Every small image size, so that each way of tiling an output row is taken somewhere: tiles
// flattened across row ends, tiles aligned to rows with a ragged last one, interleaved batches,
// and border classes that skip the taps reading only padding. 48 input channels split the sum
// into chunks, so a pixel written twice would be summed twice.
TEST_P(Conv2dKernels, MatchesTheReferenceLoopsOnEveryImageSizeUpToTwelve) {
  uint64_t seed = 60;
  for (int64_t size = 1; size <= 12; ++size) {
    for (int64_t stride : {1, 2}) {
      expect_matches_reference({{1, size, size + 1, 5}, {20, 3, 3, 5}, stride, stride, 1, 1},
                               ++seed);
      expect_matches_reference({{9, size, size, 48}, {40, 3, 3, 48}, stride, stride, 1, 1}, ++seed);
    }
  }
}

// The planes' padding is zeroed once per layout and kept (conv.cpp): a call with another layout
// in between must not leave stale values where the next call expects zeros.
TEST_P(Conv2dKernels, PaddingStaysZeroAcrossCallsOfOtherLayouts) {
  expect_matches_reference({{2, 8, 8, 16}, {16, 3, 3, 16}, 1, 1, 1, 1}, 50);
  expect_matches_reference({{2, 8, 8, 16}, {16, 3, 3, 16}, 1, 1, 2, 2}, 51);
  expect_matches_reference({{2, 8, 8, 16}, {16, 5, 5, 16}, 1, 1, 2, 2}, 52);
  expect_matches_reference({{2, 8, 8, 16}, {16, 3, 3, 16}, 1, 1, 1, 1}, 53);
}

// Large images are cut into bands of rows for the filter gradient (conv_filter.cpp); batches
// smaller than the thread team share each image's tiles; a large weight gradient is shared out
// by output channels instead of per-thread copies.
TEST_P(Conv2dKernels, MatchesTheReferenceLoopsAcrossBandsBatchOneAndLargeFilters) {
  expect_matches_reference({{1, 32, 32, 64}, {64, 3, 3, 64}, 1, 1, 1, 1}, 30);
  expect_matches_reference({{3, 33, 31, 24}, {16, 3, 3, 24}, 1, 1, 1, 1}, 31);
  expect_matches_reference({{2, 4, 4, 128}, {256, 3, 3, 128}, 1, 1, 1, 1}, 32);
}

// The data gradient is the adjoint (transpose) of the forward map: <conv(x, w), dy> equals
// <x, conv_backward_data(dy, w)> for every x and dy.
TEST_P(Conv2dKernels, BackwardDataIsTheTransposeOfTheForwardPass) {
  Generator gen(9);
  const Conv2dGeometry g = make_conv2d_geometry({2, 7, 8, 5}, {3, 3, 3, 5}, 2, 2, 1, 1);
  const Tensor x = random_tensor({2, 7, 8, 5}, gen), w = random_tensor({3, 3, 3, 5}, gen);
  const Tensor dy = random_tensor({g.N, g.P, g.Q, g.K}, gen);
  auto dot = [](const Tensor& a, const Tensor& b) {
    const std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>();
    double sum = 0;
    for (size_t i = 0; i < av.size(); ++i) sum += double(av[i]) * bv[i];
    return sum;
  };
  const double forward_side = dot(prim::conv2d_forward(x, w, g), dy);
  const double backward_side = dot(x, prim::conv2d_backward_data(dy, w, g));
  EXPECT_NEAR(forward_side, backward_side, 1e-4 * std::abs(forward_side) + 1e-4);
}

TEST(Conv2d, RejectsSixteenBitTensorsOnTheCpu) {
  const Conv2dGeometry g = make_conv2d_geometry({1, 4, 4, 3}, {2, 3, 3, 3}, 1, 1, 1, 1);
  const Tensor x({1, 4, 4, 3}, DType::f16), w({2, 3, 3, 3}, DType::f16);
  EXPECT_THROW(prim::conv2d_forward(x, w, g), Error);
}

}  // namespace
}  // namespace remix
