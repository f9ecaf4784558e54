// The CPU backend's host memory (tensor/cpu/memory.cpp): aligned blocks, and the reuse of freed
// blocks of 64 KiB and more by size.
#include <gtest/gtest.h>

#include <cstdint>

#include "tensor/backend.h"

namespace remix {
namespace {

Backend& cpu() {
  return backend_for(Device::cpu());
}

TEST(CpuMemory, BlocksAreAlignedToACacheLine) {
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{4096}, size_t{1} << 20}) {
    void* p = cpu().allocate(bytes, Device::cpu());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes << " bytes";
    cpu().deallocate(p, bytes, Device::cpu());
  }
}

TEST(CpuMemory, ALargeFreedBlockIsHandedOutAgainForTheSameSize) {
  const size_t bytes = (size_t{1} << 20) + 12345;
  void* first = cpu().allocate(bytes, Device::cpu());
  cpu().deallocate(first, bytes, Device::cpu());
  void* second = cpu().allocate(bytes, Device::cpu());
  EXPECT_EQ(first, second);
  cpu().deallocate(second, bytes, Device::cpu());
}

TEST(CpuMemory, AFreedBlockIsNotHandedOutForAnotherSize) {
  const size_t bytes = size_t{3} << 20;
  void* first = cpu().allocate(bytes, Device::cpu());
  cpu().deallocate(first, bytes, Device::cpu());
  void* other = cpu().allocate(bytes + 4096, Device::cpu());
  EXPECT_NE(first, other);
  cpu().deallocate(other, bytes + 4096, Device::cpu());
}

TEST(CpuMemory, ZeroBytesNeedNoBlock) {
  EXPECT_EQ(cpu().allocate(0, Device::cpu()), nullptr);
  cpu().deallocate(nullptr, 0, Device::cpu());
}

}  // namespace
}  // namespace remix
