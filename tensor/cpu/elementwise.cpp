// Elementwise arithmetic on the CPU, f32 only: binary ops with NumPy broadcasting, ops with a
// scalar, unary ops and the ReLU backward.
//
// Every kernel ends in a plain loop over contiguous floats that the compiler vectorises. A binary
// op picks the cheapest way to walk its operands:
//   same shape          out[i] = a[i] op b[i]
//   one scalar operand  out[i] = a[i] op s           (or s op b[i])
//   trailing row        out[r, j] = a[r, j] op b[j]  ([N, C] op [C], [N, H, W, C] op [C])
//   anything else       rows of the merged broadcast layout (broadcast.h), each row read with
//                       stride 1 or 0 per operand
// Loops with fewer than cpu::kParallelThreshold elements stay on the calling thread.
#include <cmath>
#include <type_traits>

#include "tensor/cpu/broadcast.h"
#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {

namespace {

using cpu::parallel_for;

// One line per op, kept as a table.
// clang-format off
// maximum and minimum propagate NaN, as torch.maximum / torch.minimum do.
template <BinaryOp op>
inline float apply_binary(float a, float b) {
  if constexpr (op == BinaryOp::add) return a + b;
  else if constexpr (op == BinaryOp::sub) return a - b;
  else if constexpr (op == BinaryOp::mul) return a * b;
  else if constexpr (op == BinaryOp::div) return a / b;
  else if constexpr (op == BinaryOp::maximum) return (a > b || a != a) ? a : b;
  else if constexpr (op == BinaryOp::minimum) return (a < b || a != a) ? a : b;
  else if constexpr (op == BinaryOp::pow) return std::pow(a, b);
  else if constexpr (op == BinaryOp::equal) return a == b ? 1.0f : 0.0f;
  else if constexpr (op == BinaryOp::greater) return a > b ? 1.0f : 0.0f;
  else static_assert(op != op, "a BinaryOp without its CPU case");
}

// relu keeps NaN (x < 0 is false for NaN), as torch.relu does.
template <UnaryOp op>
inline float apply_unary(float x) {
  if constexpr (op == UnaryOp::neg) return -x;
  else if constexpr (op == UnaryOp::exp) return std::exp(x);
  else if constexpr (op == UnaryOp::log) return std::log(x);
  else if constexpr (op == UnaryOp::sqrt) return std::sqrt(x);
  else if constexpr (op == UnaryOp::rsqrt) return 1.0f / std::sqrt(x);
  else if constexpr (op == UnaryOp::abs) return std::fabs(x);
  else if constexpr (op == UnaryOp::relu) return x < 0.0f ? 0.0f : x;
  else if constexpr (op == UnaryOp::sigmoid) return 1.0f / (1.0f + std::exp(-x));
  else if constexpr (op == UnaryOp::tanh) return std::tanh(x);
  else if constexpr (op == UnaryOp::square) return x * x;
  else if constexpr (op == UnaryOp::reciprocal) return 1.0f / x;
  else static_assert(op != op, "a UnaryOp without its CPU case");
}

template <BinaryOp op>
using BinaryTag = std::integral_constant<BinaryOp, op>;
template <UnaryOp op>
using UnaryTag = std::integral_constant<UnaryOp, op>;

// Calls fn(tag) where decltype(tag)::value is `op` as a compile-time constant.
template <class Fn>
void visit_binary(BinaryOp op, const Fn& fn) {
  switch (op) {
    case BinaryOp::add: return fn(BinaryTag<BinaryOp::add>{});
    case BinaryOp::sub: return fn(BinaryTag<BinaryOp::sub>{});
    case BinaryOp::mul: return fn(BinaryTag<BinaryOp::mul>{});
    case BinaryOp::div: return fn(BinaryTag<BinaryOp::div>{});
    case BinaryOp::maximum: return fn(BinaryTag<BinaryOp::maximum>{});
    case BinaryOp::minimum: return fn(BinaryTag<BinaryOp::minimum>{});
    case BinaryOp::pow: return fn(BinaryTag<BinaryOp::pow>{});
    case BinaryOp::equal: return fn(BinaryTag<BinaryOp::equal>{});
    case BinaryOp::greater: return fn(BinaryTag<BinaryOp::greater>{});
  }
  throw_error(fmt::format("binary op {} is not an enumerator", static_cast<int>(op)));
}

template <class Fn>
void visit_unary(UnaryOp op, const Fn& fn) {
  switch (op) {
    case UnaryOp::neg: return fn(UnaryTag<UnaryOp::neg>{});
    case UnaryOp::exp: return fn(UnaryTag<UnaryOp::exp>{});
    case UnaryOp::log: return fn(UnaryTag<UnaryOp::log>{});
    case UnaryOp::sqrt: return fn(UnaryTag<UnaryOp::sqrt>{});
    case UnaryOp::rsqrt: return fn(UnaryTag<UnaryOp::rsqrt>{});
    case UnaryOp::abs: return fn(UnaryTag<UnaryOp::abs>{});
    case UnaryOp::relu: return fn(UnaryTag<UnaryOp::relu>{});
    case UnaryOp::sigmoid: return fn(UnaryTag<UnaryOp::sigmoid>{});
    case UnaryOp::tanh: return fn(UnaryTag<UnaryOp::tanh>{});
    case UnaryOp::square: return fn(UnaryTag<UnaryOp::square>{});
    case UnaryOp::reciprocal: return fn(UnaryTag<UnaryOp::reciprocal>{});
  }
  throw_error(fmt::format("unary op {} is not an enumerator", static_cast<int>(op)));
}

// clang-format on

// out[i] = a[i * a_stride] op b[i * b_stride] for i < n. Strides 0 and 1 get loops of their own
// so that each is a simple, vectorisable loop.
template <BinaryOp op>
void binary_run(const float* a, int64_t a_stride, const float* b, int64_t b_stride, float* out,
                int64_t n) {
  if (a_stride == 1 && b_stride == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = apply_binary<op>(a[i], b[i]);
  } else if (a_stride == 1 && b_stride == 0) {
    const float s = *b;
    for (int64_t i = 0; i < n; ++i) out[i] = apply_binary<op>(a[i], s);
  } else if (a_stride == 0 && b_stride == 1) {
    const float s = *a;
    for (int64_t i = 0; i < n; ++i) out[i] = apply_binary<op>(s, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = apply_binary<op>(a[i * a_stride], b[i * b_stride]);
  }
}

// True when `row` (leading 1s ignored) equals the trailing axes of `full`: then `row` repeats
// along the leading axes of `full`, one contiguous copy per row of row.numel() elements.
bool is_trailing_row(const Shape& row, const Shape& full) {
  size_t first = 0;
  while (first < row.size() && row[first] == 1) ++first;
  const size_t len = row.size() - first;
  return len <= full.size() && std::equal(row.begin() + first, row.end(), full.end() - len);
}

template <BinaryOp op>
void binary_kernel(const Tensor& a, const Tensor& b, Tensor& out) {
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  const int64_t n = out.numel();
  const bool a_full = a.shape() == out.shape(), b_full = b.shape() == out.shape();
  // Whole-tensor runs: same shape, or one operand a single value (stride 0 over everything).
  if ((a_full || a.numel() == 1) && (b_full || b.numel() == 1)) {
    const int64_t sa = a_full ? 1 : 0, sb = b_full ? 1 : 0;
    parallel_for(n, 1, [&](int64_t begin, int64_t end) {
      binary_run<op>(pa + begin * sa, sa, pb + begin * sb, sb, po + begin, end - begin);
    });
    return;
  }
  // Trailing row: [N, C] op [C] (or [C] op [N, C]), one row per r.
  if ((a_full && is_trailing_row(b.shape(), out.shape())) ||
      (b_full && is_trailing_row(a.shape(), out.shape()))) {
    const int64_t row = a_full ? b.numel() : a.numel();
    parallel_for(n / row, row, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* ra = a_full ? pa + r * row : pa;
        const float* rb = b_full ? pb + r * row : pb;
        binary_run<op>(ra, 1, rb, 1, po + r * row, row);
      }
    });
    return;
  }
  // General broadcasting: rows of the merged layout.
  const cpu::BroadcastLayout layout =
      cpu::make_broadcast_layout(out.shape(), {a.shape(), b.shape()});
  const int64_t inner = layout.inner();
  const int64_t sa = layout.strides[0].back(), sb = layout.strides[1].back();
  parallel_for(layout.rows(), inner, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      binary_run<op>(pa + layout.row_offset(0, r), sa, pb + layout.row_offset(1, r), sb,
                     po + r * inner, inner);
  });
}

void check_f32(const Tensor& t, const char* op, const char* what) {
  REMIX_CHECK(t.dtype() == DType::f32, "{} on the CPU computes in f32, but {} is {}", op, what,
              dtype_name(t.dtype()));
}

}  // namespace

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  check_f32(a, "binary op", "the first operand");
  check_f32(b, "binary op", "the second operand");
  check_f32(out, "binary op", "the output");
  const Shape expected = broadcast_shapes(a.shape(), b.shape());
  REMIX_CHECK(out.shape() == expected, "binary op: output is {} but {} op {} gives {}",
              to_string(out.shape()), to_string(a.shape()), to_string(b.shape()),
              to_string(expected));
  if (out.numel() == 0) return;
  visit_binary(op, [&](auto tag) { binary_kernel<decltype(tag)::value>(a, b, out); });
}

void CpuBackend::binary_scalar(BinaryOp op, const Tensor& a, double scalar, bool scalar_first,
                               Tensor& out) {
  check_f32(a, "scalar op", "the operand");
  check_f32(out, "scalar op", "the output");
  check_same_shape(a, out, "scalar op");
  const float s = static_cast<float>(scalar);
  const float* pa = a.data<float>();
  float* po = out.data<float>();
  visit_binary(op, [&](auto tag) {
    constexpr BinaryOp o = decltype(tag)::value;
    parallel_for(out.numel(), 1, [&](int64_t begin, int64_t end) {
      if (scalar_first)
        binary_run<o>(&s, 0, pa + begin, 1, po + begin, end - begin);
      else
        binary_run<o>(pa + begin, 1, &s, 0, po + begin, end - begin);
    });
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, Tensor& out) {
  check_f32(x, "unary op", "the input");
  check_f32(out, "unary op", "the output");
  check_same_shape(x, out, "unary op");
  const float* px = x.data<float>();
  float* po = out.data<float>();
  visit_unary(op, [&](auto tag) {
    constexpr UnaryOp o = decltype(tag)::value;
    parallel_for(out.numel(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = apply_unary<o>(px[i]);
    });
  });
}

void CpuBackend::relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  check_f32(dy, "relu_backward", "dy");
  check_f32(y, "relu_backward", "y");
  check_f32(dx, "relu_backward", "dx");
  check_same_shape(dy, y, "relu_backward");
  check_same_shape(dx, y, "relu_backward");
  const float* pdy = dy.data<float>();
  const float* py = y.data<float>();
  float* pdx = dx.data<float>();
  parallel_for(dx.numel(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) pdx[i] = py[i] > 0.0f ? pdy[i] : 0.0f;
  });
}

}  // namespace remix
