// Tensor: a shape, a dtype and a device over ref-counted storage. Copying a Tensor copies the
// handle (both see the same memory), like a PyTorch tensor. Tensors are always contiguous and
// row-major; the only view is reshape. Arithmetic lives elsewhere: tensor/primitives.h has the
// raw operations (no gradients) and autograd/ops.h the differentiable ones used by layers.
//
// tensor/ knows nothing about gradients. It keeps one opaque slot (AutogradMetaBase) that the
// autograd layer fills with requires_grad, grad and the node that produced the tensor.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor/check.h"
#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace remix {

class Generator;

struct AutogradMetaBase {
  virtual ~AutogradMetaBase() = default;
};

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, int32_t>) return DType::i32;
  else if constexpr (std::is_same_v<T, uint8_t>) return DType::u8;
  else static_assert(sizeof(T) == 0, "no remix dtype for this C++ type");
}

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no storage); defined() is false
  // Uninitialised memory of the given shape.
  Tensor(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());

  // --- factories ---
  static Tensor empty(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(Shape shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  static Tensor arange(int64_t n, DType dtype = DType::f32, Device device = Device::cpu());
  // Copies host values; shape defaults to {values.size()}.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, Shape shape = {},
                            Device device = Device::cpu());
  static Tensor uniform(Shape shape, Generator& gen, double low = 0.0, double high = 1.0,
                        Device device = Device::cpu());
  static Tensor normal(Shape shape, Generator& gen, double mean = 0.0, double stddev = 1.0,
                       Device device = Device::cpu());

  // --- what it is ---
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * element_size(dtype()); }

  // --- raw memory ---
  void* raw_data() const;
  template <class T>
  T* data() const {
    REMIX_CHECK(dtype() == dtype_of<T>(), "Tensor::data<{}>() called on a {} tensor",
                dtype_name(dtype_of<T>()), dtype_name(dtype()));
    return static_cast<T*>(raw_data());
  }
  const std::shared_ptr<Storage>& storage() const;

  // --- conversions (no gradients: see autograd/ops.h for reshape/cast that record them) ---
  // A view of the same memory with a new shape; one size may be -1 (inferred).
  Tensor reshape(Shape shape) const;
  Tensor to(Device device) const;  // a copy on `device` (this tensor itself if already there)
  Tensor to(DType dtype) const;    // a converted copy (this tensor itself if already that dtype)
  Tensor clone() const;            // a deep copy on the same device
  template <class T>
  std::vector<T> to_vector() const;  // copies to the host; T must match the dtype
  float item() const;                // the single element of a one-element tensor, as f32

  std::string to_string(int64_t max_per_axis = 6) const;
  bool same_storage(const Tensor& other) const;

  // The opaque slot used by autograd/ (nullptr for tensors that never met autograd).
  std::shared_ptr<AutogradMetaBase>& autograd_meta() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  const Impl& checked_impl() const;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Throws a remix::Error naming `what` unless a and b have the same shape / dtype / device.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);
void check_dtype(const Tensor& t, DType expected, const char* what);
void check_same_device(const Tensor& a, const Tensor& b, const char* what);

// ----------------------------------------------------------------------- template definitions
void copy_host_to_tensor(const void* src, size_t nbytes, Tensor& dst);
void copy_tensor_to_host(const Tensor& src, void* dst, size_t nbytes);

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape, Device device) {
  if (shape.empty() && values.size() != 1) shape = {static_cast<int64_t>(values.size())};
  REMIX_CHECK(remix::numel(shape) == static_cast<int64_t>(values.size()),
              "Tensor::from_vector: {} values do not fill shape {}", values.size(),
              remix::to_string(shape));
  Tensor t(shape, dtype_of<T>(), device);
  copy_host_to_tensor(values.data(), values.size() * sizeof(T), t);
  return t;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  REMIX_CHECK(dtype() == dtype_of<T>(), "Tensor::to_vector<{}>() called on a {} tensor",
              dtype_name(dtype_of<T>()), dtype_name(dtype()));
  std::vector<T> out(static_cast<size_t>(numel()));
  copy_tensor_to_host(*this, out.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace remix
