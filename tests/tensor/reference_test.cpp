// The reference loops themselves (tensor/cpu/reference.cpp and reference_pooling.cpp), which the
// fast kernels' tests compare against: each forward definition on a case worked out by hand, each
// backward pass as the adjoint (transpose) of its forward pass, <F(x), dy> = <x, F^T(dy)>, and the
// convolution's split of the batch over the threads giving what each image gives alone. The
// gradient checks of tests/autograd run on these loops too (their "reference" cases).
#include "tensor/cpu/reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

using testing::random_tensor;

double dot(const Tensor& a, const Tensor& b) {
  const std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>();
  double sum = 0;
  for (size_t i = 0; i < av.size(); ++i) sum += double(av[i]) * bv[i];
  return sum;
}

void expect_same_inner_product(double forward_side, double backward_side) {
  EXPECT_NEAR(forward_side, backward_side, 1e-5 * std::abs(forward_side) + 1e-5);
}

Tensor conv_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g) {
  Tensor y({g.N, g.P, g.Q, g.K});
  cpu::reference::conv2d_forward(x.data<float>(), w.data<float>(), g, y.data<float>());
  return y;
}

// ------------------------------------------------------------------------------- convolution

// A 3x3 image 1..9, a 3x3 box of ones, padding 1: each output sums the pixel's neighbourhood.
//   1 2 3      12 21 16
//   4 5 6  ->  27 45 33
//   7 8 9      24 39 28
TEST(ReferenceConvolution, SumsEachNeighbourhoodUnderABoxFilter) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
  const Tensor w = Tensor::from_vector(std::vector<float>(9, 1.0f), {1, 3, 3, 1});
  const Conv2dGeometry g = make_conv2d_geometry(x.shape(), w.shape(), 1, 1, 1, 1);
  EXPECT_EQ(conv_forward(x, w, g).to_vector<float>(),
            (std::vector<float>{12, 21, 16, 27, 45, 33, 24, 39, 28}));
}

// A 5x5 image with two channels, v(h, w) = 5h + w and a constant 1; stride 2, no padding, so the
// four windows are centred on v = 6, 8, 16, 18. Filter 0 sums channel 0 over the window (9 times
// the centre, v being linear); filter 1 takes the centre of channel 0 plus 2 per tap of channel 1
// (+18).
TEST(ReferenceConvolution, SumsOverChannelsWithAStride) {
  std::vector<float> x(5 * 5 * 2), w(2 * 3 * 3 * 2, 0.0f);
  for (int pixel = 0; pixel < 25; ++pixel) {
    x[pixel * 2] = float(pixel);  // 5h + w
    x[pixel * 2 + 1] = 1;
  }
  for (int tap = 0; tap < 9; ++tap) {
    w[tap * 2] = 1;            // filter 0, channel 0
    w[(9 + tap) * 2 + 1] = 2;  // filter 1, channel 1
  }
  w[(9 + 4) * 2] = 1;  // filter 1, channel 0, the centre tap
  const Conv2dGeometry g = make_conv2d_geometry({1, 5, 5, 2}, {2, 3, 3, 2}, 2, 2, 0, 0);
  const Tensor y =
      conv_forward(Tensor::from_vector(x, {1, 5, 5, 2}), Tensor::from_vector(w, {2, 3, 3, 2}), g);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{54, 24, 72, 26, 144, 34, 162, 36}));
}

// <conv(x, w), dy> = <x, backward_data(dy, w)> = <w, backward_filter(dy, x)>: both gradients are
// the transposes of the forward map, in x and in w.
TEST(ReferenceConvolution, BackwardPassesAreTheTransposesOfTheForwardPass) {
  Generator gen(1);
  for (const auto& [xs, ws, stride, pad] :
       {std::tuple{Shape{2, 7, 8, 5}, Shape{3, 3, 3, 5}, 2, 1},
        std::tuple{Shape{3, 6, 5, 4}, Shape{6, 2, 3, 4}, 1, 2}}) {
    const Conv2dGeometry g = make_conv2d_geometry(xs, ws, stride, stride, pad, pad);
    const Tensor x = random_tensor(xs, gen), w = random_tensor(ws, gen);
    const Tensor dy = random_tensor({g.N, g.P, g.Q, g.K}, gen);
    Tensor dx(xs), dw(ws);
    cpu::reference::conv2d_backward_data(dy.data<float>(), w.data<float>(), g, dx.data<float>());
    cpu::reference::conv2d_backward_filter(dy.data<float>(), x.data<float>(), g, dw.data<float>());
    const double forward_side = dot(conv_forward(x, w, g), dy);
    expect_same_inner_product(forward_side, dot(x, dx));
    expect_same_inner_product(forward_side, dot(w, dw));
  }
}

// A batch big enough to be split over the threads gives each image what that image gives alone,
// and the filter gradient is the sum of the images' gradients.
TEST(ReferenceConvolution, SplitsTheBatchWithoutMixingImages) {
  Generator gen(2);
  const Shape xs{9, 8, 8, 16}, ws{16, 3, 3, 16};
  const Conv2dGeometry g = make_conv2d_geometry(xs, ws, 1, 1, 1, 1);
  const Tensor x = random_tensor(xs, gen), w = random_tensor(ws, gen);
  const Tensor dy = random_tensor({g.N, g.P, g.Q, g.K}, gen);
  const std::vector<float> y = conv_forward(x, w, g).to_vector<float>();
  Tensor dw(ws);
  cpu::reference::conv2d_backward_filter(dy.data<float>(), x.data<float>(), g, dw.data<float>());

  const Conv2dGeometry one = make_conv2d_geometry({1, 8, 8, 16}, ws, 1, 1, 1, 1);
  const int64_t x_image = 8 * 8 * 16, y_image = g.P * g.Q * g.K;
  std::vector<double> dw_sum(dw.numel(), 0.0);
  for (int64_t n = 0; n < g.N; ++n) {
    std::vector<float> y_alone(y_image), dw_alone(dw.numel());
    cpu::reference::conv2d_forward(x.data<float>() + n * x_image, w.data<float>(), one,
                                   y_alone.data());
    cpu::reference::conv2d_backward_filter(dy.data<float>() + n * y_image,
                                           x.data<float>() + n * x_image, one, dw_alone.data());
    for (int64_t i = 0; i < y_image; ++i) ASSERT_EQ(y[n * y_image + i], y_alone[i]) << n;
    for (size_t i = 0; i < dw_sum.size(); ++i) dw_sum[i] += dw_alone[i];
  }
  const std::vector<float> dw_all = dw.to_vector<float>();
  for (size_t i = 0; i < dw_sum.size(); ++i)
    EXPECT_NEAR(dw_all[i], dw_sum[i], 1e-4 * (1 + std::abs(dw_sum[i]))) << i;
}

// ------------------------------------------------------------------------------------- GEMM

// [1 2 3; 4 5 6] @ [7 8; 9 10; 11 12] = [58 64; 139 154], with A and B stored as given or
// transposed; alpha 2 and beta 0.5 on C = 1 give 2 * AB + 0.5.
TEST(ReferenceGemm, MultipliesAHandWorkedProductForEveryTranspose) {
  const std::vector<float> a{1, 2, 3, 4, 5, 6}, a_t{1, 4, 2, 5, 3, 6};
  const std::vector<float> b{7, 8, 9, 10, 11, 12}, b_t{7, 9, 11, 8, 10, 12};
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      std::vector<float> c(4, std::numeric_limits<float>::quiet_NaN());  // beta 0: not read
      cpu::reference::sgemm(ta, tb, 2, 2, 3, 1.0f, (ta ? a_t : a).data(), ta ? 2 : 3,
                            (tb ? b_t : b).data(), tb ? 3 : 2, 0.0f, c.data(), 2);
      EXPECT_EQ(c, (std::vector<float>{58, 64, 139, 154})) << ta << tb;
      c.assign(4, 1.0f);
      cpu::reference::sgemm(ta, tb, 2, 2, 3, 2.0f, (ta ? a_t : a).data(), ta ? 2 : 3,
                            (tb ? b_t : b).data(), tb ? 3 : 2, 0.5f, c.data(), 2);
      EXPECT_EQ(c, (std::vector<float>{116.5f, 128.5f, 278.5f, 308.5f})) << ta << tb;
    }
}

// ------------------------------------------------------------------------------- batch norm

// The column 1, 2, 3, 4: mean 2.5, biased variance 1.25, so with gamma 2, beta 1 and eps 0,
// y = 2 (x - 2.5) / sqrt(1.25) + 1; the ReLU then cuts the first. The running mean moves from 0
// to 0.1 * 2.5, the running variance from 1 to 0.9 + 0.1 * 1.25 * 4/3 (the unbiased variance).
TEST(ReferenceBatchNorm, NormalisesAHandWorkedColumn) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {4, 1});
  const Tensor gamma = Tensor::from_vector<float>({2}, {1}),
               beta = Tensor::from_vector<float>({1}, {1});
  for (BatchNormActivation act : {BatchNormActivation::none, BatchNormActivation::relu}) {
    Tensor running_mean = Tensor::zeros({1}), running_var = Tensor::ones({1});
    Tensor y({4, 1}), mean({1}), invstd({1});
    cpu::reference::batch_norm_forward_training({.x = &x,
                                                 .gamma = &gamma,
                                                 .beta = &beta,
                                                 .running_mean = &running_mean,
                                                 .running_var = &running_var,
                                                 .activation = act,
                                                 .momentum = 0.1,
                                                 .eps = 0.0,
                                                 .y = &y,
                                                 .save_mean = &mean,
                                                 .save_invstd = &invstd});
    const double s = 2.0 / std::sqrt(1.25);
    std::vector<double> want{1 - 1.5 * s, 1 - 0.5 * s, 1 + 0.5 * s, 1 + 1.5 * s};
    if (act == BatchNormActivation::relu) want[0] = 0.0;
    const std::vector<float> got = y.to_vector<float>();
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
    EXPECT_FLOAT_EQ(mean.to_vector<float>()[0], 2.5f);
    EXPECT_FLOAT_EQ(invstd.to_vector<float>()[0], float(1 / std::sqrt(1.25)));
    EXPECT_FLOAT_EQ(running_mean.to_vector<float>()[0], 0.25f);
    EXPECT_FLOAT_EQ(running_var.to_vector<float>()[0], float(0.9 + 0.125 * 4.0 / 3.0));
  }
}

// The gradient of the same column for dy = (1, 0, 0, 0), with xhat = (x - 2.5) / sqrt(1.25):
// dbeta = 1, dgamma = xhat[0], dx = gamma * invstd * (dy - 1/4 - xhat * dgamma / 4)
//   = 2 / sqrt(1.25) * (0.3, -0.4, -0.1, 0.2).
TEST(ReferenceBatchNorm, BackPropagatesAHandWorkedColumn) {
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {4, 1});
  const Tensor dy = Tensor::from_vector<float>({1, 0, 0, 0}, {4, 1});
  const Tensor gamma = Tensor::from_vector<float>({2}, {1}), beta = Tensor::zeros({1});
  const Tensor mean = Tensor::from_vector<float>({2.5f}, {1});
  const Tensor invstd = Tensor::from_vector<float>({float(1 / std::sqrt(1.25))}, {1});
  Tensor dx({4, 1}), dgamma({1}), dbeta({1});
  cpu::reference::batch_norm_backward({.dy = &dy,
                                       .x = &x,
                                       .gamma = &gamma,
                                       .beta = &beta,
                                       .save_mean = &mean,
                                       .save_invstd = &invstd,
                                       .dx = &dx,
                                       .dgamma = &dgamma,
                                       .dbeta = &dbeta});
  const double s = 2.0 / std::sqrt(1.25);
  const std::vector<float> got = dx.to_vector<float>();
  const double want[] = {0.3 * s, -0.4 * s, -0.1 * s, 0.2 * s};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
  EXPECT_FLOAT_EQ(dbeta.to_vector<float>()[0], 1.0f);
  EXPECT_NEAR(dgamma.to_vector<float>()[0], -1.5 / std::sqrt(1.25), 1e-6);
}

// ------------------------------------------------------------------- pooling and ROI-Align

// Average pooling and ROI-Align are linear in x: their backward passes are their transposes.
// (Max pooling's hand-worked windows, NaN included, are in pool_test.cpp.)
TEST(ReferencePooling, AverageBackwardIsTheTransposeOfTheForwardPass) {
  Generator gen(3);
  const PoolGeometry g = make_pool_geometry({2, 7, 6, 5}, 3, 3, 2, 2, 1, 1, /*ceil_mode=*/true);
  const Tensor x = random_tensor({2, 7, 6, 5}, gen), dy = random_tensor({g.N, g.P, g.Q, g.C}, gen);
  Tensor y({g.N, g.P, g.Q, g.C}), dx(x.shape());
  cpu::reference::avg_pool2d_forward(x.data<float>(), g, y.data<float>());
  cpu::reference::avg_pool2d_backward(dy.data<float>(), g, dx.data<float>());
  expect_same_inner_product(dot(y, dy), dot(x, dx));
}

TEST(ReferenceRoiAlign, BackwardIsTheTransposeOfTheForwardPass) {
  Generator gen(4);
  const Tensor x = random_tensor({2, 7, 6, 3}, gen);
  const Tensor boxes = Tensor::from_vector<float>({2.0f, 3.0f, 9.0f, 11.0f,  //
                                                   -4.0f, -2.5f, 6.0f, 5.0f},
                                                  {2, 4});
  for (bool aligned : {true, false}) {
    RoiAlignParams p;
    p.out_h = 2, p.out_w = 3, p.spatial_scale = 0.5, p.sampling_ratio = 0, p.aligned = aligned;
    const Tensor dy = random_tensor({2, 2, 3, 3}, gen);
    Tensor y({2, 2, 3, 3}), dx(x.shape());
    cpu::reference::roi_align_forward(x.data<float>(), boxes.data<float>(), p, 2, 7, 6, 3,
                                      y.data<float>());
    cpu::reference::roi_align_backward(dy.data<float>(), boxes.data<float>(), p, 2, 7, 6, 3,
                                       dx.data<float>());
    expect_same_inner_product(dot(y, dy), dot(x, dx));
  }
}

}  // namespace
}  // namespace remix
