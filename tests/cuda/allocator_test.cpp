// The caching allocator of cuda/allocator.cpp: blocks are reused, sizes rounded, statistics
// kept, out-of-memory reported with numbers; and pinned host memory.
#include <string>

#include "cuda/runtime.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(CudaAllocator, GivesAFreedBlockBackForARequestOfTheSameRoundedSize) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  cuda::empty_cache(gpu);  // so that the only cached block of that size is the one freed below
  void* first = cuda::allocate(1000, gpu);
  cuda::deallocate(first, 1000, gpu);
  void* second = cuda::allocate(700, gpu);  // 700 and 1000 bytes both round up to 1024
  EXPECT_EQ(second, first);
  void* third = cuda::allocate(700, gpu);  // that block is in use now: another one
  EXPECT_NE(third, first);
  cuda::deallocate(second, 700, gpu);
  cuda::deallocate(third, 700, gpu);
}

TEST(CudaAllocator, DoesNotHandOutACachedBlockOfAnotherSize) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  cuda::empty_cache(gpu);
  void* small = cuda::allocate(1000, gpu);  // 1024 bytes
  cuda::deallocate(small, 1000, gpu);
  void* larger = cuda::allocate(1100, gpu);  // 1536 bytes
  EXPECT_NE(larger, small);
  cuda::deallocate(larger, 1100, gpu);
}

TEST(CudaAllocator, CountsAllocatedPeakAndReservedBytes) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  cuda::empty_cache(gpu);
  cuda::reset_peak_memory(gpu);
  const cuda::MemoryStats before = cuda::memory_stats(gpu);
  EXPECT_EQ(before.peak_allocated, before.allocated);
  EXPECT_GE(before.reserved, before.allocated);  // live blocks are rounded up

  const size_t request = 2 * kMiB + 1;  // large requests round up to a multiple of 2 MiB
  void* block = cuda::allocate(request, gpu);
  const cuda::MemoryStats in_use = cuda::memory_stats(gpu);
  EXPECT_EQ(in_use.allocated, before.allocated + request);  // requested bytes, as PyTorch
  EXPECT_EQ(in_use.reserved, before.reserved + 4 * kMiB);    // the rounded block
  EXPECT_EQ(in_use.peak_allocated, in_use.allocated);

  cuda::deallocate(block, request, gpu);
  const cuda::MemoryStats cached = cuda::memory_stats(gpu);
  EXPECT_EQ(cached.allocated, before.allocated);
  EXPECT_EQ(cached.reserved, before.reserved + 4 * kMiB);  // kept in the cache
  EXPECT_EQ(cached.peak_allocated, before.allocated + request);

  cuda::empty_cache(gpu);
  EXPECT_EQ(cuda::memory_stats(gpu).reserved, before.reserved);
  cuda::reset_peak_memory(gpu);
  EXPECT_EQ(cuda::memory_stats(gpu).peak_allocated, before.allocated);
}

TEST(CudaAllocator, GivesANullPointerForZeroBytes) {
  REMIX_SKIP_WITHOUT_GPU();
  EXPECT_EQ(cuda::allocate(0, Device::cuda(0)), nullptr);
  cuda::deallocate(nullptr, 0, Device::cuda(0));
}

TEST(CudaAllocator, TensorsOnTheGpuReuseCachedMemory) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  cuda::empty_cache(gpu);
  void* first = nullptr;
  {
    Tensor t({3, 5, 7}, DType::f32, gpu);
    first = t.raw_data();
  }
  Tensor again({105}, DType::f32, gpu);
  EXPECT_EQ(again.raw_data(), first);
}

TEST(CudaAllocator, RunningOutOfMemoryThrowsAnErrorThatSaysHowMuch) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  const size_t huge = size_t{1} << 50;  // 1 PiB
  std::string message;
  try {
    cuda::allocate(huge, gpu);
  } catch (const OutOfMemoryError& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("tried to allocate"), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(huge) + " bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("MiB free of"), std::string::npos) << message;
  // The failure is not left behind: allocating and checking for errors work as before.
  void* block = cuda::allocate(1000, gpu);
  EXPECT_NE(block, nullptr);
  cuda::deallocate(block, 1000, gpu);
  EXPECT_NO_THROW(REMIX_CUDA_CHECK_LAUNCH());
}

TEST(CudaAllocator, PinnedHostMemoryIsPageLocked) {
  REMIX_SKIP_WITHOUT_GPU();
  void* pinned = cuda::allocate_pinned(4096);
  cudaPointerAttributes attributes{};
  REMIX_CUDA_CHECK(cudaPointerGetAttributes(&attributes, pinned));
  EXPECT_EQ(attributes.type, cudaMemoryTypeHost);
  cuda::free_pinned(pinned);
}

}  // namespace
}  // namespace remix
