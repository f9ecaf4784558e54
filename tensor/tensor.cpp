#include "tensor/tensor.h"

#include <ostream>

#include "tensor/backend.h"
#include "tensor/random.h"

namespace remix {

struct Tensor::Impl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  DType dtype = DType::f32;
  mutable std::shared_ptr<AutogradMetaBase> autograd;
};

Tensor::Tensor(Shape shape, DType dtype, Device device) : impl_(std::make_shared<Impl>()) {
  for (int64_t s : shape)
    REMIX_CHECK(s >= 0, "cannot create a tensor of shape {}: sizes must be >= 0",
                remix::to_string(shape));
  const size_t nbytes = static_cast<size_t>(remix::numel(shape)) * element_size(dtype);
  impl_->storage = std::make_shared<Storage>(nbytes, device);
  impl_->shape = std::move(shape);
  impl_->dtype = dtype;
}

const Tensor::Impl& Tensor::checked_impl() const {
  REMIX_CHECK(impl_ != nullptr, "this tensor is undefined (default-constructed, no storage)");
  return *impl_;
}

Tensor Tensor::empty(Shape shape, DType dtype, Device device) {
  return Tensor(std::move(shape), dtype, device);
}

Tensor Tensor::full(Shape shape, double value, DType dtype, Device device) {
  Tensor t(std::move(shape), dtype, device);
  backend_for(device).fill(t, value);
  return t;
}

Tensor Tensor::zeros(Shape shape, DType dtype, Device device) {
  return full(std::move(shape), 0.0, dtype, device);
}

Tensor Tensor::ones(Shape shape, DType dtype, Device device) {
  return full(std::move(shape), 1.0, dtype, device);
}

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  REMIX_CHECK(n >= 0, "Tensor::arange({}): expected n >= 0", n);
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = static_cast<float>(i);
  return from_vector(values, {n}).to(dtype).to(device);
}

Tensor Tensor::uniform(Shape shape, Generator& gen, double low, double high, Device device) {
  std::vector<float> values(static_cast<size_t>(remix::numel(shape)));
  for (float& v : values) v = static_cast<float>(gen.uniform(low, high));
  return from_vector(values, std::move(shape), device);
}

Tensor Tensor::normal(Shape shape, Generator& gen, double mean, double stddev, Device device) {
  std::vector<float> values(static_cast<size_t>(remix::numel(shape)));
  for (size_t i = 0; i < values.size(); i += 2) {
    const auto [a, b] = gen.normal_pair();
    values[i] = static_cast<float>(mean + stddev * a);
    if (i + 1 < values.size()) values[i + 1] = static_cast<float>(mean + stddev * b);
  }
  return from_vector(values, std::move(shape), device);
}

const Shape& Tensor::shape() const { return checked_impl().shape; }
DType Tensor::dtype() const { return checked_impl().dtype; }
Device Tensor::device() const { return checked_impl().storage->device(); }
int64_t Tensor::numel() const { return remix::numel(shape()); }
void* Tensor::raw_data() const { return checked_impl().storage->data(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked_impl().storage; }
std::shared_ptr<AutogradMetaBase>& Tensor::autograd_meta() const { return checked_impl().autograd; }

int64_t Tensor::size(int64_t axis) const { return shape()[normalize_axis(axis, dim())]; }

bool Tensor::same_storage(const Tensor& other) const {
  return defined() && other.defined() && storage() == other.storage();
}

Tensor Tensor::reshape(Shape new_shape) const {
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < static_cast<int>(new_shape.size()); ++i) {
    if (new_shape[i] == -1) {
      REMIX_CHECK(infer < 0, "reshape to {}: at most one size may be -1",
                  remix::to_string(new_shape));
      infer = i;
    } else {
      REMIX_CHECK(new_shape[i] >= 0, "reshape to {}: sizes must be >= 0 or -1",
                  remix::to_string(new_shape));
      known *= new_shape[i];
    }
  }
  if (infer >= 0) {
    REMIX_CHECK(known > 0 && numel() % known == 0, "cannot reshape {} ({} elements) to {}",
                remix::to_string(shape()), numel(), remix::to_string(new_shape));
    new_shape[infer] = numel() / known;
  }
  REMIX_CHECK(remix::numel(new_shape) == numel(), "cannot reshape {} ({} elements) to {}",
              remix::to_string(shape()), numel(), remix::to_string(new_shape));
  Tensor view;
  view.impl_ = std::make_shared<Impl>();
  view.impl_->storage = storage();
  view.impl_->shape = std::move(new_shape);
  view.impl_->dtype = dtype();
  return view;
}

Tensor Tensor::to(Device target) const {
  const Device here = device();
  if (here == target) return *this;
  Tensor out(shape(), dtype(), target);
  if (nbytes() == 0) return out;
  if (here.is_cpu()) {
    backend_for(target).copy_from_host(out.raw_data(), raw_data(), nbytes(), target);
  } else if (target.is_cpu()) {
    backend_for(here).copy_to_host(out.raw_data(), raw_data(), nbytes(), here);
  } else {  // between two GPUs: through the host (rare; not on a hot path)
    return to(Device::cpu()).to(target);
  }
  return out;
}

Tensor Tensor::to(DType target) const {
  if (dtype() == target) return *this;
  Tensor out(shape(), target, device());
  backend_for(device()).cast(*this, out);
  return out;
}

Tensor Tensor::clone() const {
  Tensor out(shape(), dtype(), device());
  backend_for(device()).copy(*this, out);
  return out;
}

float Tensor::item() const {
  REMIX_CHECK(numel() == 1, "item() needs a one-element tensor, got shape {}",
              remix::to_string(shape()));
  return to(Device::cpu()).to(DType::f32).to_vector<float>()[0];
}

void copy_host_to_tensor(const void* src, size_t nbytes, Tensor& dst) {
  REMIX_CHECK(nbytes == dst.nbytes(), "copy of {} bytes into a tensor of {} bytes", nbytes,
              dst.nbytes());
  if (nbytes == 0) return;
  backend_for(dst.device()).copy_from_host(dst.raw_data(), src, nbytes, dst.device());
}

void copy_tensor_to_host(const Tensor& src, void* dst, size_t nbytes) {
  REMIX_CHECK(nbytes == src.nbytes(), "copy of a tensor of {} bytes into {} bytes", src.nbytes(),
              nbytes);
  if (nbytes == 0) return;
  backend_for(src.device()).copy_to_host(dst, src.raw_data(), nbytes, src.device());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  REMIX_CHECK(a.shape() == b.shape(), "{}: shapes {} and {} must be equal", what,
              to_string(a.shape()), to_string(b.shape()));
}

void check_dtype(const Tensor& t, DType expected, const char* what) {
  REMIX_CHECK(t.dtype() == expected, "{}: expected a {} tensor, got {}", what,
              dtype_name(expected), dtype_name(t.dtype()));
}

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  REMIX_CHECK(a.device() == b.device(), "{}: tensors are on {} and {}; move them to one device",
              what, to_string(a.device()), to_string(b.device()));
}

// ------------------------------------------------------------------------------- printing
namespace {

void print_values(std::string& out, const std::vector<float>& v, const Shape& shape, int axis,
                  int64_t offset, int64_t max_per_axis, bool integral) {
  if (shape.empty()) {
    out += integral ? fmt::format("{}", static_cast<int64_t>(v[0])) : fmt::format("{:.4g}", v[0]);
    return;
  }
  const int64_t n = shape[axis];
  const int64_t stride = numel(Shape(shape.begin() + axis + 1, shape.end()));
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (n > max_per_axis && i == max_per_axis / 2) {
      out += "..., ";
      i = n - max_per_axis / 2;
    }
    if (axis + 1 == static_cast<int>(shape.size())) {
      const float x = v[offset + i];
      out += integral ? fmt::format("{}", static_cast<int64_t>(x)) : fmt::format("{:.4g}", x);
    } else {
      print_values(out, v, shape, axis + 1, offset + i * stride, max_per_axis, integral);
    }
    if (i + 1 < n) out += ", ";
  }
  out += ']';
}

}  // namespace

std::string Tensor::to_string(int64_t max_per_axis) const {
  if (!defined()) return "Tensor(undefined)";
  std::string out = fmt::format("Tensor(shape={}, dtype={}, device={})\n", remix::to_string(shape()),
                                dtype_name(dtype()), remix::to_string(device()));
  const std::vector<float> values = to(Device::cpu()).to(DType::f32).to_vector<float>();
  if (numel() == 0) return out + "[]";
  print_values(out, values, shape(), 0, 0, std::max<int64_t>(max_per_axis, 2),
               !is_floating(dtype()));
  return out;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace remix
