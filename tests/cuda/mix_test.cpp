// The GPU batch augmentation against the CPU backend: resize-and-paste (nearest and bilinear;
// a source batch with more images than the destination, as in the last partial batch of
// RecursiveMix; sources larger and smaller than the box), CutMix's paste_box and Cutout's
// fill_box, with one box for the batch or one per image, empty and full-image boxes; and a paste
// captured in a CUDA graph follows the box written after the capture. The bilinear resize is
// also pinned on a hand-computed 2x2 -> 3x3 case (align_corners=True).
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include "cuda/runtime.h"
#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::kFloatTypes;
using testing::matches_cpu;
using testing::random_tensor;
using testing::rounded;
using testing::same_bytes;
using testing::to_gpu;

Tensor boxes(const std::vector<int32_t>& values) {
  return Tensor::from_vector(values, {static_cast<int64_t>(values.size() / 4), 4});
}

// Box sets for 3 images of 9 x 11: one for all, one each (including an empty and a full box).
std::vector<Tensor> box_sets() {
  return {boxes({2, 1, 9, 7}), boxes({0, 0, 11, 9, 3, 4, 3, 8, 1, 2, 6, 5}),
          boxes({5, 3, 6, 4})};
}

TEST(CudaMix, NearestPasteMatchesTheCpuForAPartialBatch) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(90);
  // Sources: the same size as the destination, larger, and smaller than the boxes.
  for (const Shape& src_shape : {Shape{5, 9, 11, 3}, Shape{4, 16, 13, 3}, Shape{3, 2, 3, 3}}) {
    const Tensor src = random_tensor(src_shape, gen), dst = random_tensor({3, 9, 11, 3}, gen);
    for (const Tensor& box : box_sets()) {
      for (DType dtype : kFloatTypes) {
        SCOPED_TRACE(::testing::Message() << "source " << to_string(src_shape) << ", "
                                          << box.size(0) << " boxes, " << dtype_name(dtype));
        Tensor gpu = to_gpu(dst, dtype);
        Tensor cpu = dst.to(dtype).clone();
        prim::paste_resized(to_gpu(src, dtype), to_gpu(box), Interpolation::nearest, gpu);
        prim::paste_resized(src.to(dtype), box, Interpolation::nearest, cpu);
        EXPECT_TRUE(same_bytes(gpu, cpu));  // nearest only copies values
      }
    }
  }
}

TEST(CudaMix, BilinearPasteMatchesTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(91);
  for (const Shape& src_shape : {Shape{5, 9, 11, 5}, Shape{3, 16, 13, 5}, Shape{4, 2, 3, 5}}) {
    const Tensor src = random_tensor(src_shape, gen), dst = random_tensor({3, 9, 11, 5}, gen);
    for (const Tensor& box : box_sets()) {
      for (DType dtype : kFloatTypes) {
        SCOPED_TRACE(::testing::Message() << "source " << to_string(src_shape) << ", "
                                          << box.size(0) << " boxes, " << dtype_name(dtype));
        Tensor gpu = to_gpu(dst, dtype);
        Tensor cpu = rounded(dst, dtype).clone();  // the CPU blends f32 only
        prim::paste_resized(to_gpu(src, dtype), to_gpu(box), Interpolation::bilinear, gpu);
        prim::paste_resized(rounded(src, dtype), box, Interpolation::bilinear, cpu);
        EXPECT_TRUE(matches_cpu(gpu, cpu, dtype));
      }
    }
  }
}

TEST(CudaMix, BilinearEnlarging2x2To3x3KeepsTheCornersAndAveragesBetweenThem) {
  REMIX_SKIP_WITHOUT_GPU();
  // align_corners=True: corners a, b, c, d kept, side midpoints and the centre are means.
  const Tensor src = Tensor::from_vector(std::vector<float>{1, 3, 5, 11}, {1, 2, 2, 1});
  Tensor gpu = to_gpu(Tensor::zeros({1, 3, 3, 1}));
  prim::paste_resized(to_gpu(src), to_gpu(boxes({0, 0, 3, 3})), Interpolation::bilinear, gpu);
  EXPECT_EQ(gpu.to(Device::cpu()).to_vector<float>(), (std::vector<float>{1, 2, 3,  //
                                                                          3, 5, 7,  //
                                                                          5, 8, 11}));
}

TEST(CudaMix, PasteBoxAndFillBoxMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(92);
  // Values up to 255 so that the u8 images are not all zero.
  const Tensor src = random_tensor({3, 9, 11, 13}, gen, 0.0, 255.0);
  const Tensor dst = random_tensor({3, 9, 11, 13}, gen, 0.0, 255.0);
  for (const Tensor& box : box_sets()) {
    for (DType dtype : {DType::f32, DType::bf16, DType::u8}) {
      SCOPED_TRACE(::testing::Message() << box.size(0) << " boxes, " << dtype_name(dtype));
      Tensor gpu = to_gpu(dst, dtype);
      Tensor cpu = dst.to(dtype).clone();
      prim::paste_box(to_gpu(src, dtype), to_gpu(box), gpu);
      prim::paste_box(src.to(dtype), box, cpu);
      EXPECT_TRUE(same_bytes(gpu, cpu));
      prim::fill_box(to_gpu(box), 7.5, gpu);
      prim::fill_box(box, 7.5, cpu);
      EXPECT_TRUE(same_bytes(gpu, cpu));
    }
  }
}

TEST(CudaMix, ACapturedPasteUsesTheBoxOfEachReplay) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(93);
  const Tensor src = random_tensor({2, 8, 8, 3}, gen), dst = random_tensor({2, 8, 8, 3}, gen);
  const Tensor src_gpu = to_gpu(src);
  Tensor dst_gpu = to_gpu(dst);
  Tensor box_gpu = to_gpu(boxes({0, 0, 4, 4}));
  const cudaStream_t s = cuda::stream(Device::cuda());
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  prim::paste_resized(src_gpu, box_gpu, Interpolation::bilinear, dst_gpu);
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  Tensor cpu = dst.clone();
  for (const std::vector<int32_t>& b : {std::vector<int32_t>{1, 2, 7, 5}, {3, 0, 8, 8}}) {
    // Write the new box into the captured tensor's memory, then replay.
    copy_host_to_tensor(b.data(), b.size() * sizeof(int32_t), box_gpu);
    ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
    prim::paste_resized(src, boxes(b), Interpolation::bilinear, cpu);
  }
  EXPECT_TRUE(matches_cpu(dst_gpu, cpu, DType::f32));
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
}

}  // namespace
}  // namespace remix
