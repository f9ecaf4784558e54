// A block of memory on one device, shared (ref-counted) by every tensor that views it. The
// device's backend allocates and frees it (the CPU backend 64-byte aligned, CUDA from its cache).
#pragma once

#include <cstddef>
#include <functional>

#include "tensor/device.h"

namespace remix {

class Storage {
 public:
  // Allocates nbytes on `device` through its backend.
  Storage(size_t nbytes, Device device);
  // Wraps memory owned elsewhere; `release` is called once when the last tensor lets go.
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::function<void(void*)> release_;
};

}  // namespace remix
