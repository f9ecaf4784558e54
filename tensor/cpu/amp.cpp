// Dynamic loss scaling on the CPU, with the semantics of torch.amp.GradScaler.
//
// amp_unscale multiplies a gradient by 1/scale and raises found_inf if any result is not finite;
// amp_update_scale then shrinks the scale after an overflow or grows it after `interval` clean
// steps. Gradients may be f32, f16 or bf16 (16-bit values are converted, scaled in f32 and
// rounded back); the scale, its inverse, the flag and the growth counter are one-element f32.
#include <cmath>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/parallel.h"

namespace remix {

namespace {

float* scalar_f32(Tensor& t, const char* what) {
  REMIX_CHECK(t.dtype() == DType::f32 && t.numel() == 1,
              "{} must be a one-element f32 tensor, got {} {}", what, dtype_name(t.dtype()),
              to_string(t.shape()));
  return t.data<float>();
}

// grad[i] = to_float(grad[i]) * inv_scale stored back; returns whether all results are finite.
template <class T, class ToFloat, class FromFloat>
bool unscale(T* grad, int64_t n, float inv_scale, ToFloat to_float, FromFloat from_float) {
  bool all_finite = true;
  cpu::parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    bool finite = true;
    for (int64_t i = begin; i < end; ++i) {
      const float v = to_float(grad[i]) * inv_scale;
      finite &= std::isfinite(v);
      grad[i] = from_float(v);
    }
    if (!finite) {
#pragma omp atomic write
      all_finite = false;
    }
  });
  return all_finite;
}

// grad *= factor; false if any result is not finite.
bool unscale_one(Tensor& grad, float factor) {
  const int64_t n = grad.numel();
  const auto same = [](float v) { return v; };
  bool finite = true;
  switch (grad.dtype()) {
    case DType::f32:
      finite = unscale(grad.data<float>(), n, factor, same, same);
      break;
    case DType::f16:
      finite =
          unscale(static_cast<uint16_t*>(grad.raw_data()), n, factor, half_to_float, float_to_half);
      break;
    case DType::bf16:
      finite =
          unscale(static_cast<uint16_t*>(grad.raw_data()), n, factor, bf16_to_float, float_to_bf16);
      break;
    default:
      throw_error(fmt::format("amp_unscale: gradients must be f32, f16 or bf16, got {}",
                              dtype_name(grad.dtype())));
  }
  return finite;
}

}  // namespace

void CpuBackend::amp_unscale(const std::vector<Tensor*>& grads, const Tensor& inv_scale,
                             Tensor& found_inf) {
  float* flag = scalar_f32(found_inf, "found_inf flag");
  const float factor = inv_scale.item();
  for (Tensor* grad : grads)
    if (!unscale_one(*grad, factor)) *flag = 1.0f;
}

// As torch's _amp_update_scale_: after an overflow scale *= backoff and the counter restarts;
// otherwise the counter counts clean steps and at `interval` the scale grows (unless that would
// make it infinite) and the counter restarts.
void CpuBackend::amp_update_scale(Tensor& scale, Tensor& inv_scale, Tensor& found_inf,
                                  Tensor& growth_tracker, double growth, double backoff,
                                  int64_t interval) {
  float* s = scalar_f32(scale, "loss scale");
  float* inv = scalar_f32(inv_scale, "inverse loss scale");
  float* flag = scalar_f32(found_inf, "found_inf flag");
  float* tracker = scalar_f32(growth_tracker, "growth tracker");
  if (*flag != 0.0f) {
    *s = *s * static_cast<float>(backoff);
    *tracker = 0.0f;
  } else {
    const float good_steps = *tracker + 1.0f;
    if (good_steps >= static_cast<float>(interval)) {
      const float grown = *s * static_cast<float>(growth);
      if (std::isfinite(grown)) *s = grown;
      *tracker = 0.0f;
    } else {
      *tracker = good_steps;
    }
  }
  *inv = 1.0f / *s;
  *flag = 0.0f;
}

}  // namespace remix
