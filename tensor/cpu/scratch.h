// A 64-byte aligned scratch buffer that grows on demand and is kept between calls, so that a
// kernel called every training step (packing panels, laying out planes) does not allocate.
// Declare it thread_local where each thread needs its own.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "tensor/check.h"

namespace remix::cpu {

class ScratchBuffer {
 public:
  // A buffer of at least `count` floats; earlier contents are lost when it grows.
  float* reserve(int64_t count) {
    if (count > capacity_) {
      const size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
      data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      capacity_ = data_ ? count : 0;
      if (!data_) {
        throw OutOfMemoryError(fmt::format("could not allocate {} bytes of kernel scratch", bytes));
      }
    }
    return data_.get();
  }
  int64_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

}  // namespace remix::cpu
