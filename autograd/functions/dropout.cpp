// Differentiable dropout (training only; a layer in evaluation mode does not call it).
//
// Each element is kept with probability 1 - p and scaled by 1 / (1 - p), so the expected value is
// unchanged:  y = x * mask,  mask = (u >= p) / (1 - p),  u ~ U[0, 1) drawn on the host from the
// caller's Generator (the same seed gives the same mask on every device). dropout is a product
// with a constant, so mul's node gives dx = dy * mask and keeps only the mask.
#include "autograd/ops.h"
#include "tensor/random.h"

namespace remix {

Tensor dropout(const Tensor& x, double p, Generator& gen) {
  REMIX_CHECK(p >= 0.0 && p <= 1.0, "dropout: the probability must be in [0, 1], got {}", p);
  if (p == 0.0) return x;
  if (p == 1.0) return mul(x, 0.0);  // everything dropped (and no division by 1 - p)
  Tensor mask = Tensor::uniform(x.shape(), gen);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  float* m = mask.data<float>();
  for (int64_t i = 0; i < mask.numel(); ++i) m[i] = m[i] >= p ? scale : 0.0f;
  return mul(x, mask.to(x.device()).to(x.dtype()));
}

}  // namespace remix
