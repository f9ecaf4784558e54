// Data movement on the CPU: fill, broadcasting copy, dtype casts, channel slices, row gathers.
//
// Copies move bytes and so work for every dtype. Casts convert each element through double, which
// holds every value of every remix dtype exactly, then store it in the target type:
//   float -> f16/bf16   round to nearest even (float_to_half, float_to_bf16 in tensor/dtype.h)
//   float -> i32        truncate toward zero; NaN gives 0, values beyond the i32 range saturate
//   float or i32 -> u8  truncate toward zero, then saturate to [0, 255]; NaN gives 0
// fill stores its value with the same rules, so fill(u8 tensor, 300) writes 255.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "tensor/cpu/broadcast.h"
#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {

namespace {

using cpu::parallel_for;

// One struct per dtype: its storage type and the conversions to and from double.
struct F32 {
  using T = float;
  static double load(T v) { return v; }
  static T store(double v) { return static_cast<float>(v); }
};
struct F16 {
  using T = uint16_t;
  static double load(T v) { return half_to_float(v); }
  static T store(double v) { return float_to_half(static_cast<float>(v)); }
};
struct BF16 {
  using T = uint16_t;
  static double load(T v) { return bf16_to_float(v); }
  static T store(double v) { return float_to_bf16(static_cast<float>(v)); }
};
struct I32 {
  using T = int32_t;
  static double load(T v) { return v; }
  static T store(double v) {
    if (std::isnan(v)) return 0;
    const double t = std::trunc(v);
    if (t <= std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
    if (t >= std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
    return static_cast<int32_t>(t);
  }
};
struct U8 {
  using T = uint8_t;
  static double load(T v) { return v; }
  static T store(double v) {
    if (std::isnan(v) || v <= 0) return 0;
    return v >= 255 ? 255 : static_cast<uint8_t>(v);  // the cast truncates toward zero
  }
};

// Calls fn(DTypeStruct{}) for the struct of `dtype`.
template <class Fn>
void visit_dtype(DType dtype, const Fn& fn) {
  switch (dtype) {
    case DType::f32:
      return fn(F32{});
    case DType::f16:
      return fn(F16{});
    case DType::bf16:
      return fn(BF16{});
    case DType::i32:
      return fn(I32{});
    case DType::u8:
      return fn(U8{});
  }
  throw_error("unknown dtype");
}

// The unsigned integer type with `size` bytes: copies only move bits.
template <size_t size>
using Bits =
    std::conditional_t<size == 1, uint8_t, std::conditional_t<size == 2, uint16_t, uint32_t>>;

template <class Fn>
void visit_element_size(DType dtype, const Fn& fn) {
  switch (element_size(dtype)) {
    case 1:
      return fn(Bits<1>{});
    case 2:
      return fn(Bits<2>{});
    case 4:
      return fn(Bits<4>{});
  }
  throw_error("unsupported element size");
}

// Each row of dst (every merged axis but the last) reads src from that row's offset, stepping by
// src's stride on the last axis: 1 is a plain memcpy, 0 repeats one element.
template <class T>
void broadcast_copy(const T* src, T* dst, const cpu::BroadcastLayout& layout) {
  const int64_t inner = layout.inner(), stride = layout.strides[0].back();
  parallel_for(layout.rows(), inner, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const T* s = src + layout.row_offset(0, row);
      T* d = dst + row * inner;
      if (stride == 1) {
        std::memcpy(d, s, static_cast<size_t>(inner) * sizeof(T));
      } else {
        for (int64_t i = 0; i < inner; ++i) d[i] = s[i * stride];
      }
    }
  });
}

}  // namespace

void CpuBackend::fill(Tensor& out, double value) {
  visit_dtype(out.dtype(), [&](auto type) {
    using D = decltype(type);
    const typename D::T v = D::store(value);
    auto* data = static_cast<typename D::T*>(out.raw_data());
    parallel_for(out.numel(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) data[i] = v;
    });
  });
}

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  REMIX_CHECK(src.dtype() == dst.dtype(), "copy: source is {} but destination is {}; use cast",
              dtype_name(src.dtype()), dtype_name(dst.dtype()));
  if (src.shape() == dst.shape()) {
    if (dst.nbytes() > 0 && src.raw_data() != dst.raw_data())
      std::memcpy(dst.raw_data(), src.raw_data(), dst.nbytes());
    return;
  }
  const cpu::BroadcastLayout layout = cpu::make_broadcast_layout(dst.shape(), {src.shape()});
  if (dst.numel() == 0) return;
  visit_element_size(dst.dtype(), [&](auto bits) {
    using T = decltype(bits);
    broadcast_copy(static_cast<const T*>(src.raw_data()), static_cast<T*>(dst.raw_data()), layout);
  });
}

void CpuBackend::cast(const Tensor& src, Tensor& dst) {
  REMIX_CHECK(src.shape() == dst.shape(), "cast: source shape {} differs from destination {}",
              to_string(src.shape()), to_string(dst.shape()));
  if (src.dtype() == dst.dtype()) return copy(src, dst);
  visit_dtype(src.dtype(), [&](auto from) {
    visit_dtype(dst.dtype(), [&](auto to) {
      using S = decltype(from);
      using D = decltype(to);
      const auto* s = static_cast<const typename S::T*>(src.raw_data());
      auto* d = static_cast<typename D::T*>(dst.raw_data());
      parallel_for(src.numel(), 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) d[i] = D::store(S::load(s[i]));
      });
    });
  });
}

void CpuBackend::copy_channels(const Tensor& src, int64_t src_start, Tensor& dst, int64_t dst_start,
                               int64_t count) {
  REMIX_CHECK(src.dtype() == dst.dtype(), "copy_channels: source is {} but destination is {}",
              dtype_name(src.dtype()), dtype_name(dst.dtype()));
  REMIX_CHECK(src.dim() >= 1 && src.dim() == dst.dim() &&
                  std::equal(src.shape().begin(), src.shape().end() - 1, dst.shape().begin()),
              "copy_channels: shapes {} and {} must agree on every axis but the last",
              to_string(src.shape()), to_string(dst.shape()));
  const int64_t src_channels = src.shape().back(), dst_channels = dst.shape().back();
  REMIX_CHECK(count >= 0 && src_start >= 0 && src_start + count <= src_channels && dst_start >= 0 &&
                  dst_start + count <= dst_channels,
              "copy_channels: {} channels from {} of {} into {} of {} do not fit", count, src_start,
              src_channels, dst_start, dst_channels);
  if (count == 0 || src.numel() == 0) return;
  const size_t esize = element_size(src.dtype());
  const auto* s = static_cast<const uint8_t*>(src.raw_data());
  auto* d = static_cast<uint8_t*>(dst.raw_data());
  const int64_t rows = src.numel() / src_channels;
  parallel_for(rows, count, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      std::memcpy(d + (r * dst_channels + dst_start) * esize,
                  s + (r * src_channels + src_start) * esize, static_cast<size_t>(count) * esize);
  });
}

void CpuBackend::index_select_rows(const Tensor& src, const Tensor& index, Tensor& out) {
  REMIX_CHECK(index.dtype() == DType::i32 && index.dim() == 1,
              "index_select_rows: the index must be a 1-d i32 tensor, got {} {}",
              dtype_name(index.dtype()), to_string(index.shape()));
  REMIX_CHECK(src.dtype() == out.dtype(), "index_select_rows: source is {} but output is {}",
              dtype_name(src.dtype()), dtype_name(out.dtype()));
  Shape expected = src.shape();
  REMIX_CHECK(!expected.empty(), "index_select_rows: the source needs a row axis");
  expected[0] = index.size(0);
  REMIX_CHECK(out.shape() == expected, "index_select_rows: output is {} but expected {}",
              to_string(out.shape()), to_string(expected));
  const int32_t* idx = index.data<int32_t>();
  const int64_t rows = src.size(0);
  for (int64_t i = 0; i < index.size(0); ++i)
    REMIX_CHECK(idx[i] >= 0 && idx[i] < rows,
                "index_select_rows: index[{}] = {} is outside [0, {}), the rows of the source", i,
                idx[i], rows);
  if (out.numel() == 0) return;
  int64_t row_elements = 1;  // elements in one row: the product of every axis but the first
  for (size_t axis = 1; axis < expected.size(); ++axis) row_elements *= expected[axis];
  const size_t row_bytes = static_cast<size_t>(row_elements) * element_size(src.dtype());
  const auto* s = static_cast<const uint8_t*>(src.raw_data());
  auto* d = static_cast<uint8_t*>(out.raw_data());
  parallel_for(index.size(0), row_elements, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      std::memcpy(d + i * row_bytes, s + idx[i] * row_bytes, row_bytes);
  });
}

}  // namespace remix
