#include "tensor/storage.h"

#include "tensor/backend.h"

namespace remix {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = backend_for(device).allocate(nbytes, device);
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> release)
    : data_(data), nbytes_(nbytes), device_(device), release_(std::move(release)) {}

Storage::~Storage() {
  if (release_) {
    release_(data_);
  } else if (data_ != nullptr) {
    backend_for(device_).deallocate(data_, nbytes_, device_);
  }
}

}  // namespace remix
