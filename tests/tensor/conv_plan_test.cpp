// How the CPU convolution tiles its output (tensor/cpu/conv_plan.h): whichever tile shape,
// row alignment, batch interleaving and border classes a plan picks, every output pixel must be
// written by exactly one tile. A pixel written twice would be summed twice when the sum over
// taps and channels is cut into chunks; one never written would keep stale memory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tensor/cpu/conv_plan.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

// How many tiles of the plan write each output pixel (n, h, w) of a batch of `images`.
std::vector<int> writes_per_pixel(const cpu::OutputPlan& plan, int64_t images) {
  const int64_t image_pixels = plan.out_h * plan.out_w;
  std::vector<float> out(static_cast<size_t>(images * image_pixels * plan.out_channels));
  std::vector<int> writes(static_cast<size_t>(images * image_pixels), 0);
  std::vector<float*> rows(static_cast<size_t>(plan.shape.mr));
  const bool interleaved = plan.layout.batch > 1;
  for (int64_t n = 0; n < (interleaved ? 1 : images); ++n) {
    float* image = out.data() + n * image_pixels * plan.out_channels;
    for (const cpu::OutputPass& pass : plan.passes) {
      for (int64_t t = 0; t < plan.tiles(pass); ++t) {
        plan.output_rows(pass, image, plan.tile_start(pass, t), rows.data());
        for (float* row : rows)
          if (row != nullptr) ++writes[(row - out.data()) / plan.out_channels];
      }
    }
  }
  return writes;
}

class ConvPlans : public testing::CpuKernelTest {};
INSTANTIATE_TEST_SUITE_P(EveryKernel, ConvPlans, testing::kEveryInstructionSet,
                         testing::cpu_kernel_name);

TEST_P(ConvPlans, WriteEveryOutputPixelExactlyOnce) {
  for (int64_t size = 1; size <= 12; ++size) {
    for (int64_t kernel : {1, 3, 5}) {
      for (int64_t stride : {1, 2}) {
        for (int64_t pad = 0; pad <= kernel / 2; ++pad) {
          for (int64_t images : {1, 9, 32}) {
            for (int64_t channels : {16, 20, 40, 64}) {
              if (size + 2 * pad < kernel) continue;
              const Conv2dGeometry g = make_conv2d_geometry(
                  {images, size, size + 1, 5}, {channels, kernel, kernel, 5}, stride, stride, pad,
                  pad);
              const std::vector<float> w(static_cast<size_t>(channels * kernel * kernel * 5), 1.0f);
              SCOPED_TRACE(::testing::Message() << "size " << size << " kernel " << kernel
                                                << " stride " << stride << " pad " << pad
                                                << " images " << images << " K " << channels);
              for (const std::vector<int>& writes :
                   {writes_per_pixel(cpu::forward_plan(g, w.data()), images),
                    writes_per_pixel(cpu::backward_data_plan(g, w.data()), images)}) {
                for (size_t i = 0; i < writes.size(); ++i)
                  ASSERT_EQ(writes[i], 1) << "output pixel " << i;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace remix
