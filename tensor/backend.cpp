// Dispatch (a tensor's device picks its backend) and the shape arithmetic shared by backends.
#include "tensor/backend.h"

namespace remix {

Backend& backend_for(Device device) {
  return device.is_cpu() ? cpu_backend() : cuda_backend();
}

Conv2dGeometry make_conv2d_geometry(const Shape& x, const Shape& w, int64_t stride_h,
                                    int64_t stride_w, int64_t pad_h, int64_t pad_w) {
  REMIX_CHECK(x.size() == 4, "conv2d: input must be N x H x W x C, got shape {}", to_string(x));
  REMIX_CHECK(w.size() == 4, "conv2d: weight must be K x R x S x C, got shape {}", to_string(w));
  REMIX_CHECK(x[3] == w[3], "conv2d: input has {} channels but the weight expects {}", x[3], w[3]);
  REMIX_CHECK(stride_h > 0 && stride_w > 0 && pad_h >= 0 && pad_w >= 0,
              "conv2d: stride must be > 0 and padding >= 0, got stride {}x{}, padding {}x{}",
              stride_h, stride_w, pad_h, pad_w);
  Conv2dGeometry g;
  g.N = x[0], g.H = x[1], g.W = x[2], g.C = x[3];
  g.K = w[0], g.R = w[1], g.S = w[2];
  g.stride_h = stride_h, g.stride_w = stride_w, g.pad_h = pad_h, g.pad_w = pad_w;
  REMIX_CHECK(g.H + 2 * pad_h >= g.R && g.W + 2 * pad_w >= g.S,
              "conv2d: a {}x{} kernel does not fit a {}x{} input padded by {}x{}", g.R, g.S, g.H,
              g.W, pad_h, pad_w);
  g.P = (g.H + 2 * pad_h - g.R) / stride_h + 1;
  g.Q = (g.W + 2 * pad_w - g.S) / stride_w + 1;
  return g;
}

namespace {

// PyTorch's pooling_output_shape: with ceil_mode the last window must start inside the input
// or its left padding.
int64_t pooled_size(int64_t in, int64_t k, int64_t pad, int64_t stride, bool ceil_mode) {
  int64_t out = (in + 2 * pad - k + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

}  // namespace

PoolGeometry make_pool_geometry(const Shape& x, int64_t R, int64_t S, int64_t stride_h,
                                int64_t stride_w, int64_t pad_h, int64_t pad_w, bool ceil_mode) {
  REMIX_CHECK(x.size() == 4, "pool2d: input must be N x H x W x C, got shape {}", to_string(x));
  REMIX_CHECK(R > 0 && S > 0 && stride_h > 0 && stride_w > 0,
              "pool2d: kernel and stride must be > 0, got kernel {}x{}, stride {}x{}", R, S,
              stride_h, stride_w);
  REMIX_CHECK(pad_h >= 0 && pad_w >= 0 && 2 * pad_h <= R && 2 * pad_w <= S,
              "pool2d: padding must be between 0 and half the kernel, got {}x{} for a {}x{} kernel",
              pad_h, pad_w, R, S);
  PoolGeometry g;
  g.N = x[0], g.H = x[1], g.W = x[2], g.C = x[3];
  g.R = R, g.S = S, g.stride_h = stride_h, g.stride_w = stride_w, g.pad_h = pad_h, g.pad_w = pad_w;
  g.ceil_mode = ceil_mode;
  REMIX_CHECK(g.H + 2 * pad_h >= R && g.W + 2 * pad_w >= S,
              "pool2d: a {}x{} window does not fit a {}x{} input padded by {}x{}", R, S, g.H, g.W,
              pad_h, pad_w);
  g.P = pooled_size(g.H, R, pad_h, stride_h, ceil_mode);
  g.Q = pooled_size(g.W, S, pad_w, stride_w, ceil_mode);
  return g;
}

}  // namespace remix
