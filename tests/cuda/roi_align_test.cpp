// The CUDA ROI-Align against the CPU backend, forward and backward: one box per image, boxes
// inside, across and partly outside the feature map, adaptive and fixed sampling, aligned and
// legacy coordinates, the 1x1 output of RecursiveMix's ROI head, in f32, f16 and bf16.
#include <gtest/gtest.h>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::kFloatTypes;
using testing::matches_cpu;
using testing::random_tensor;
using testing::rounded;
using testing::to_gpu;

// Boxes (x1, y1, x2, y2) in image coordinates, image = feature map / spatial_scale; some reach
// beyond the image so that samples fall outside the map.
Tensor random_boxes(int64_t N, double image_h, double image_w, Generator& gen) {
  std::vector<float> b;
  for (int64_t n = 0; n < N; ++n) {
    const double x1 = gen.uniform(-0.2 * image_w, 0.7 * image_w);
    const double y1 = gen.uniform(-0.2 * image_h, 0.7 * image_h);
    b.push_back(static_cast<float>(x1));
    b.push_back(static_cast<float>(y1));
    b.push_back(static_cast<float>(x1 + gen.uniform(0.5, 0.6 * image_w)));
    b.push_back(static_cast<float>(y1 + gen.uniform(0.5, 0.6 * image_h)));
  }
  return Tensor::from_vector(b, {N, 4});
}

struct RoiCase {
  Shape x;
  RoiAlignParams p;
};

TEST(CudaRoiAlign, ForwardAndBackwardMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(40);
  const RoiCase cases[] = {
      {{3, 7, 9, 5}, {2, 3, 0.5, -1, true}},
      {{3, 7, 9, 5}, {2, 3, 0.5, 2, false}},
      {{1, 8, 8, 13}, {1, 1, 0.125, -1, true}},  // the ROI head of RecursiveMix
      {{2, 5, 6, 3}, {4, 4, 1.0, -1, true}},     // bins smaller than a pixel
  };
  for (const RoiCase& rc : cases) {
    const RoiAlignParams& p = rc.p;
    const Tensor boxes =
        random_boxes(rc.x[0], rc.x[1] / p.spatial_scale, rc.x[2] / p.spatial_scale, gen);
    const Tensor x = random_tensor(rc.x, gen);
    const Tensor dy = random_tensor({rc.x[0], p.out_h, p.out_w, rc.x[3]}, gen);
    for (DType dtype : kFloatTypes) {
      SCOPED_TRACE(::testing::Message()
                   << to_string(rc.x) << " out " << p.out_h << "x" << p.out_w << " scale "
                   << p.spatial_scale << " sampling " << p.sampling_ratio << " aligned "
                   << p.aligned << " " << dtype_name(dtype));
      const Tensor boxes_gpu = to_gpu(boxes);
      EXPECT_TRUE(matches_cpu(prim::roi_align_forward(to_gpu(x, dtype), boxes_gpu, p),
                              prim::roi_align_forward(rounded(x, dtype), boxes, p), dtype));
      EXPECT_TRUE(matches_cpu(prim::roi_align_backward(to_gpu(dy, dtype), boxes_gpu, p, rc.x),
                              prim::roi_align_backward(rounded(dy, dtype), boxes, p, rc.x), dtype));
    }
  }
}

}  // namespace
}  // namespace remix
