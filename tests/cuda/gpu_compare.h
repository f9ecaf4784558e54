// Helpers of the CUDA tests, which compare every CUDA primitive with the CPU backend on the same
// data. Inputs are drawn on the CPU in f32, rounded to the dtype under test and uploaded; the CPU
// reference computes in f32 on the rounded values (what the GPU sees); the GPU result must agree
// within a tolerance that suits the dtype: f32 arithmetic in another order, plus the output's own
// rounding to f16 (11 significant bits) or bf16 (8 bits).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix::testing {

inline const std::vector<DType> kFloatTypes = {DType::f32, DType::f16, DType::bf16};

// x (on the CPU) converted to `dtype` and uploaded to the GPU.
inline Tensor to_gpu(const Tensor& x, DType dtype) {
  return x.to(dtype).to(Device::cuda());
}
inline Tensor to_gpu(const Tensor& x) {
  return x.to(Device::cuda());
}

// x (f32, on the CPU) rounded to `dtype` and back: the values the GPU computes with.
inline Tensor rounded(const Tensor& x, DType dtype) {
  return x.to(dtype).to(DType::f32);
}

// Relative tolerance for results stored in `dtype`.
inline double tolerance(DType dtype) {
  switch (dtype) {
    case DType::f16:
      return 1e-3;
    case DType::bf16:
      return 1e-2;
    default:
      return 1e-5;
  }
}

// |gpu - cpu| <= tol * (scale + |cpu|), where scale is the magnitude of typical values (so that
// results near zero are judged against it, not against themselves).
inline ::testing::AssertionResult matches_cpu(const Tensor& gpu, const Tensor& cpu, DType dtype,
                                              double scale = 1.0) {
  if (!gpu.device().is_cuda())
    return ::testing::AssertionFailure() << "the result is on " << to_string(gpu.device());
  if (gpu.dtype() != dtype)
    return ::testing::AssertionFailure()
           << "the result is " << dtype_name(gpu.dtype()) << ", expected " << dtype_name(dtype);
  const double tol = tolerance(dtype);
  return all_close(gpu, cpu, tol * scale, tol);
}

// Same dtype, shape and bytes: for data movement, integer results and exact conversions.
inline ::testing::AssertionResult same_bytes(const Tensor& gpu, const Tensor& cpu) {
  if (gpu.dtype() != cpu.dtype() || gpu.shape() != cpu.shape())
    return ::testing::AssertionFailure()
           << dtype_name(gpu.dtype()) << " " << to_string(gpu.shape()) << " vs "
           << dtype_name(cpu.dtype()) << " " << to_string(cpu.shape());
  const Tensor host = gpu.to(Device::cpu());
  const auto* a = static_cast<const uint8_t*>(host.raw_data());
  const auto* b = static_cast<const uint8_t*>(cpu.raw_data());
  const size_t element = element_size(cpu.dtype());
  for (size_t i = 0; i < cpu.nbytes(); ++i)
    if (a[i] != b[i])
      return ::testing::AssertionFailure()
             << "first difference in element " << i / element << " of " << cpu.numel();
  return ::testing::AssertionSuccess();
}

// Uniform integers in [low, high], as f32 on the CPU (values with ties, for max and argmax).
inline Tensor random_integers(const Shape& shape, Generator& gen, int64_t low, int64_t high) {
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  for (float& x : v) x = static_cast<float>(low + gen.randint(high - low + 1));
  return Tensor::from_vector(v, shape);
}

// --- for long sums (GEMM, convolution, batch norm): judged against the scale of the data ---

// f16 keeps 11 significant bits, bf16 8. For f32, TF32 tensor cores (10 bits, used by cuDNN
// convolutions as in PyTorch) give errors near 1e-3 of the scale.
constexpr double kF16Tolerance = 5e-3;
constexpr double kBf16Tolerance = 2e-2;
constexpr double kTf32Tolerance = 1e-2;

// The tolerance for results of a computation that may use TF32 when its data is f32.
inline double tolerance_with_tf32(DType dtype) {
  return dtype == DType::f16    ? kF16Tolerance
         : dtype == DType::bf16 ? kBf16Tolerance
                                : kTf32Tolerance;
}

// Every element of `actual` (on any device, of any float dtype) is within
// tolerance * max|reference| of the CPU reference.
inline ::testing::AssertionResult matches_cpu_at_scale(const Tensor& actual,
                                                       const Tensor& reference, double tolerance) {
  const std::vector<float> values = reference.to(Device::cpu()).to(DType::f32).to_vector<float>();
  double scale = 0.0;
  for (float v : values) scale = std::max(scale, static_cast<double>(std::abs(v)));
  return all_close(actual, reference, tolerance * std::max(scale, 1e-6), 0.0);
}

// One input, rounded to a dtype: `device` on the GPU in that dtype, `reference` on the CPU as
// f32 holding the same (rounded) values. Undefined tensors stand for "no such input".
struct Operand {
  Tensor device, reference;
};

inline Operand upload(const Tensor& values, DType dtype) {
  const Tensor rounded = values.to(dtype);
  return {rounded.to(Device::cuda()), rounded.to(DType::f32)};
}

}  // namespace remix::testing
