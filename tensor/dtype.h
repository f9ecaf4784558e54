// Element types. f32 is the compute type everywhere; f16 and bf16 are storage/compute types for
// mixed precision on CUDA (the CPU can hold and convert them); u8 holds images, i32 labels/indices.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace remix {

enum class DType : uint8_t { f32, f16, bf16, i32, u8 };

constexpr size_t element_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::i32: return 4;
    case DType::f16: return 2;
    case DType::bf16: return 2;
    case DType::u8: return 1;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::i32: return "i32";
    case DType::u8: return "u8";
  }
  return "?";
}

constexpr bool is_floating(DType t) { return t == DType::f32 || t == DType::f16 || t == DType::bf16; }

// --- host conversions for the 16-bit float types (used by the CPU cast kernel and by tests) ---

// bf16 is the top half of an f32; round to nearest even, keep NaN a (quiet) NaN.
inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float bf16_to_float(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// IEEE 754 binary16 with round to nearest even, overflow to inf, subnormals kept.
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);

}  // namespace remix
