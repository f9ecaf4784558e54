// The memory primitives of the CUDA backend (cuda/memory.cpp): uploads through the pinned
// staging ring and downloads that wait for the device.
#include <algorithm>
#include <vector>

#include "tests/support/test_support.h"

namespace remix {
namespace {

TEST(CudaMemory, RoundTripsValuesThroughTheDevice) {
  REMIX_SKIP_WITHOUT_GPU();
  std::vector<float> values(12345);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5f * static_cast<float>(i) - 7.0f;
  const Tensor t = Tensor::from_vector(values, {}, Device::cuda(0));
  EXPECT_EQ(t.to_vector<float>(), values);
}

TEST(CudaMemory, UploadsLargerThanAStagingBufferArriveWhole) {
  REMIX_SKIP_WITHOUT_GPU();
  std::vector<uint8_t> bytes((size_t{10} << 20) + 3);  // several 4 MiB chunks and a remainder
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>((i * 7 + i / 4096) % 251);
  const Tensor t = Tensor::from_vector(bytes, {}, Device::cuda(0));
  EXPECT_TRUE(t.to_vector<uint8_t>() == bytes);
}

TEST(CudaMemory, ManyUploadsInARowKeepTheirOwnValues) {
  REMIX_SKIP_WITHOUT_GPU();
  // More uploads than staging slots, with no wait in between: a slot must not be overwritten
  // before the device has copied out of it.
  std::vector<Tensor> uploads;
  for (int32_t k = 0; k < 12; ++k)
    uploads.push_back(Tensor::from_vector(std::vector<int32_t>(1000, k), {}, Device::cuda(0)));
  for (int32_t k = 0; k < 12; ++k)
    EXPECT_EQ(uploads[k].to_vector<int32_t>(), std::vector<int32_t>(1000, k)) << "upload " << k;
}

TEST(CudaMemory, TheSourceMayBeReusedAsSoonAsTheUploadReturns) {
  REMIX_SKIP_WITHOUT_GPU();
  std::vector<float> source(4096, 1.0f);
  const Tensor t = Tensor::from_vector(source, {}, Device::cuda(0));
  std::fill(source.begin(), source.end(), 2.0f);
  EXPECT_EQ(t.to_vector<float>(), std::vector<float>(4096, 1.0f));
}

}  // namespace
}  // namespace remix
