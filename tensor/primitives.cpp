// Checked wrappers: data movement, elementwise, reductions, GEMM. See primitives.h.
#include "tensor/primitives.h"
#include "tensor/profile.h"

namespace remix::prim {

namespace {

Backend& backend(const Tensor& t) { return backend_for(t.device()); }

void check_floating(const Tensor& t, const char* what) {
  REMIX_CHECK(is_floating(t.dtype()), "{}: expected a floating-point tensor, got {}", what,
              dtype_name(t.dtype()));
}

}  // namespace

void fill(Tensor& t, double value) {
  const profile::Scope timed(profile::Kind::copy);
  backend(t).fill(t, value);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  const profile::Scope timed(profile::Kind::copy);
  REMIX_CHECK(broadcast_shapes(x.shape(), shape) == shape,
              "broadcast_to: shape {} cannot be broadcast to {}", to_string(x.shape()),
              to_string(shape));
  Tensor out(shape, x.dtype(), x.device());
  backend(x).copy(x, out);
  return out;
}

Tensor cast(const Tensor& x, DType dtype) {
  const profile::Scope timed(profile::Kind::copy);
  return x.to(dtype);
}

Tensor slice_channels(const Tensor& x, int64_t start, int64_t count) {
  const profile::Scope timed(profile::Kind::copy);
  REMIX_CHECK(x.dim() >= 1, "slice_channels: expected a tensor with a channel axis");
  const int64_t channels = x.shape().back();
  REMIX_CHECK(start >= 0 && count >= 0 && start + count <= channels,
              "slice_channels: [{}, {}) is outside the {} channels", start, start + count,
              channels);
  Shape shape = x.shape();
  shape.back() = count;
  Tensor out(shape, x.dtype(), x.device());
  backend(x).copy_channels(x, start, out, 0, count);
  return out;
}

Tensor concat_channels(const std::vector<Tensor>& parts) {
  const profile::Scope timed(profile::Kind::copy);
  REMIX_CHECK(!parts.empty(), "concat_channels: expected at least one tensor");
  Shape shape = parts[0].shape();
  REMIX_CHECK(!shape.empty(), "concat_channels: expected tensors with a channel axis");
  int64_t channels = 0;
  for (const Tensor& p : parts) {
    Shape other = p.shape();
    REMIX_CHECK(other.size() == shape.size() &&
                    std::equal(other.begin(), other.end() - 1, shape.begin()),
                "concat_channels: shapes {} and {} differ outside the last axis",
                to_string(shape), to_string(other));
    check_same_device(parts[0], p, "concat_channels");
    REMIX_CHECK(p.dtype() == parts[0].dtype(), "concat_channels: dtypes {} and {} differ",
                dtype_name(parts[0].dtype()), dtype_name(p.dtype()));
    channels += other.back();
  }
  shape.back() = channels;
  Tensor out(shape, parts[0].dtype(), parts[0].device());
  int64_t at = 0;
  for (const Tensor& p : parts) {
    backend(p).copy_channels(p, 0, out, at, p.shape().back());
    at += p.shape().back();
  }
  return out;
}

Tensor pad_channels(const Tensor& x, int64_t channels) {
  const profile::Scope timed(profile::Kind::copy);
  REMIX_CHECK(x.dim() >= 1 && channels >= x.shape().back(),
              "pad_channels: cannot pad {} channels to {}", x.shape().back(), channels);
  Shape shape = x.shape();
  shape.back() = channels;
  Tensor out = Tensor::zeros(shape, x.dtype(), x.device());
  backend(x).copy_channels(x, 0, out, 0, x.shape().back());
  return out;
}

Tensor index_select_rows(const Tensor& src, const Tensor& index) {
  const profile::Scope timed(profile::Kind::copy);
  check_dtype(index, DType::i32, "index_select_rows index");
  check_same_device(src, index, "index_select_rows");
  REMIX_CHECK(src.dim() >= 1 && index.dim() == 1,
              "index_select_rows: expected a tensor with rows and a 1-d index, got {} and {}",
              to_string(src.shape()), to_string(index.shape()));
  Shape shape = src.shape();
  shape[0] = index.size(0);
  Tensor out(shape, src.dtype(), src.device());
  backend(src).index_select_rows(src, index, out);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const profile::Scope timed(profile::Kind::elementwise);
  check_same_device(a, b, "binary op");
  REMIX_CHECK(a.dtype() == b.dtype(), "binary op: dtypes {} and {} differ; cast one first",
              dtype_name(a.dtype()), dtype_name(b.dtype()));
  check_floating(a, "binary op");
  Tensor out(broadcast_shapes(a.shape(), b.shape()), a.dtype(), a.device());
  backend(a).binary(op, a, b, out);
  return out;
}

Tensor binary_scalar(BinaryOp op, const Tensor& a, double scalar, bool scalar_first) {
  const profile::Scope timed(profile::Kind::elementwise);
  check_floating(a, "scalar op");
  Tensor out(a.shape(), a.dtype(), a.device());
  backend(a).binary_scalar(op, a, scalar, scalar_first, out);
  return out;
}

Tensor unary(UnaryOp op, const Tensor& x) {
  const profile::Scope timed(profile::Kind::elementwise);
  check_floating(x, "unary op");
  Tensor out(x.shape(), x.dtype(), x.device());
  backend(x).unary(op, x, out);
  return out;
}

Tensor relu_backward(const Tensor& dy, const Tensor& y) {
  const profile::Scope timed(profile::Kind::elementwise);
  check_same_shape(dy, y, "relu_backward");
  Tensor dx(y.shape(), dy.dtype(), dy.device());
  backend(y).relu_backward(dy, y, dx);
  return dx;
}

Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  const profile::Scope timed(profile::Kind::elementwise);
  check_floating(x, "reduce");
  const std::vector<int> normalized = normalize_axes(axes, x.dim());
  if (op == ReduceOp::max) {
    for (int a : normalized)
      REMIX_CHECK(x.shape()[a] > 0, "max over an empty axis {} of shape {} is undefined", a,
                  to_string(x.shape()));
  }
  Tensor out(reduced_shape(x.shape(), normalized, keepdim), x.dtype(), x.device());
  backend(x).reduce(op, x, normalized, out);
  return out;
}

Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  const profile::Scope timed(profile::Kind::elementwise);
  check_floating(x, "argmax");
  const int a = normalize_axis(axis, x.dim());
  REMIX_CHECK(x.shape()[a] > 0, "argmax over an empty axis of shape {}", to_string(x.shape()));
  Tensor out(reduced_shape(x.shape(), {a}, keepdim), DType::i32, x.device());
  backend(x).argmax(x, a, out);
  return out;
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  const profile::Scope timed(profile::Kind::elementwise);
  if (g.shape() == shape) return g;
  REMIX_CHECK(broadcast_shapes(shape, g.shape()) == g.shape(),
              "sum_to_shape: {} does not broadcast to {}", to_string(shape),
              to_string(g.shape()));
  // Leading axes that broadcasting added, and axes where `shape` has size 1.
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < g.dim(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(i);
  if (axes.empty()) return g.reshape(shape);
  return reduce(ReduceOp::sum, g, axes, true).reshape(shape);
}

namespace {

void check_gemm(bool ta, bool tb, const Tensor& a, const Tensor& b, const Tensor& c) {
  REMIX_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2,
              "gemm: expected 2-d matrices, got {}, {} and {}", to_string(a.shape()),
              to_string(b.shape()), to_string(c.shape()));
  const int64_t m = ta ? a.size(1) : a.size(0), k = ta ? a.size(0) : a.size(1);
  const int64_t kb = tb ? b.size(1) : b.size(0), n = tb ? b.size(0) : b.size(1);
  REMIX_CHECK(k == kb, "matmul: inner sizes differ: {}{} @ {}{}", to_string(a.shape()),
              ta ? "^T" : "", to_string(b.shape()), tb ? "^T" : "");
  REMIX_CHECK(c.size(0) == m && c.size(1) == n, "gemm: output is {} but the product is [{}, {}]",
              to_string(c.shape()), m, n);
  check_same_device(a, b, "matmul");
  check_same_device(a, c, "matmul");
  REMIX_CHECK(a.dtype() == b.dtype() && a.dtype() == c.dtype() && is_floating(a.dtype()),
              "matmul: expected one floating dtype, got {}, {} and {}", dtype_name(a.dtype()),
              dtype_name(b.dtype()), dtype_name(c.dtype()));
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  const profile::Scope timed(profile::Kind::linear);
  REMIX_CHECK(a.dim() == 2 && b.dim() == 2, "matmul: expected 2-d matrices, got {} and {}",
              to_string(a.shape()), to_string(b.shape()));
  const int64_t m = transpose_a ? a.size(1) : a.size(0);
  const int64_t n = transpose_b ? b.size(0) : b.size(1);
  Tensor c({m, n}, a.dtype(), a.device());
  check_gemm(transpose_a, transpose_b, a, b, c);
  backend(a).gemm(transpose_a, transpose_b, 1.0, a, b, 0.0, c);
  return c;
}

void gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& a, const Tensor& b,
          double beta, Tensor& c) {
  const profile::Scope timed(profile::Kind::linear);
  check_gemm(transpose_a, transpose_b, a, b, c);
  backend(a).gemm(transpose_a, transpose_b, alpha, a, b, beta, c);
}

}  // namespace remix::prim
