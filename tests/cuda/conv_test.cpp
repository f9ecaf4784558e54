// cuDNN convolution (cuda/conv.cpp) against the CPU: forward, backward data and backward filter
// on odd shapes (batch 1, 3/5/13 channels, stride 2, padding 1, non-square kernels) in f32
// (TF32 allowed), f16 and bf16.
#include "tensor/primitives.h"
#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::Operand;

struct ConvCase {
  Shape x, w;
  int64_t stride_h, stride_w, pad_h, pad_w;
};
const ConvCase kCases[] = {
    {{1, 7, 7, 3}, {5, 3, 3, 3}, 2, 2, 1, 1},     // batch 1, 3 channels, stride 2, padding 1
    {{2, 6, 5, 13}, {8, 1, 1, 13}, 1, 1, 0, 0},   // a 1x1 convolution over 13 channels
    {{2, 5, 9, 5}, {3, 3, 1, 5}, 2, 1, 1, 0},     // non-square kernel, stride and padding
    {{3, 8, 8, 16}, {32, 3, 3, 16}, 1, 1, 1, 1},  // channel counts that suit tensor cores
};

void expect_conv_matches_cpu(DType dtype) {
  const double tolerance = testing::tolerance_with_tf32(dtype);
  Generator gen(21);
  for (const ConvCase& c : kCases) {
    SCOPED_TRACE(::testing::Message()
                 << "x " << to_string(c.x) << " w " << to_string(c.w) << " stride " << c.stride_h
                 << "x" << c.stride_w << " pad " << c.pad_h << "x" << c.pad_w);
    const Conv2dGeometry g =
        make_conv2d_geometry(c.x, c.w, c.stride_h, c.stride_w, c.pad_h, c.pad_w);
    const Operand x = testing::upload(testing::random_tensor(c.x, gen), dtype);
    const Operand w = testing::upload(testing::random_tensor(c.w, gen), dtype);
    const Operand dy = testing::upload(testing::random_tensor({g.N, g.P, g.Q, g.K}, gen), dtype);
    EXPECT_TRUE(testing::matches_cpu_at_scale(prim::conv2d_forward(x.device, w.device, g),
                                              prim::conv2d_forward(x.reference, w.reference, g),
                                              tolerance))
        << "forward";
    EXPECT_TRUE(testing::matches_cpu_at_scale(
        prim::conv2d_backward_data(dy.device, w.device, g),
        prim::conv2d_backward_data(dy.reference, w.reference, g), tolerance))
        << "backward data";
    EXPECT_TRUE(testing::matches_cpu_at_scale(
        prim::conv2d_backward_filter(dy.device, x.device, g),
        prim::conv2d_backward_filter(dy.reference, x.reference, g), tolerance))
        << "backward filter";
  }
}

TEST(CudaConv2d, MatchesTheCpuInF32) {
  REMIX_SKIP_WITHOUT_GPU();
  expect_conv_matches_cpu(DType::f32);
}

TEST(CudaConv2d, MatchesTheCpuInF16) {
  REMIX_SKIP_WITHOUT_GPU();
  expect_conv_matches_cpu(DType::f16);
}

TEST(CudaConv2d, MatchesTheCpuInBf16) {
  REMIX_SKIP_WITHOUT_GPU();
  expect_conv_matches_cpu(DType::bf16);
}

TEST(CudaConv2d, GivesIdenticalResultsWhenTheChosenAlgorithmIsReused) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(22);
  const Device gpu = Device::cuda(0);
  const Tensor x = testing::random_tensor({2, 9, 9, 6}, gen).to(gpu);
  const Tensor w = testing::random_tensor({4, 3, 3, 6}, gen).to(gpu);
  const Conv2dGeometry g = make_conv2d_geometry(x.shape(), w.shape(), 1, 1, 1, 1);
  const Tensor first = prim::conv2d_forward(x, w, g);  // chooses and caches the algorithm
  const Tensor second = prim::conv2d_forward(x, w, g);
  EXPECT_EQ(first.to_vector<float>(), second.to_vector<float>());
}

TEST(CudaConv2d, GivesZerosForAnEmptyBatch) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  const Tensor x = Tensor({0, 5, 5, 3}, DType::f32, gpu);
  const Tensor dy = Tensor({0, 5, 5, 4}, DType::f32, gpu);
  const Conv2dGeometry g = make_conv2d_geometry(x.shape(), {4, 3, 3, 3}, 1, 1, 1, 1);
  const Tensor dw = prim::conv2d_backward_filter(dy, x, g);
  EXPECT_EQ(dw.to_vector<float>(), std::vector<float>(4 * 3 * 3 * 3, 0.0f));
}

}  // namespace
}  // namespace remix
