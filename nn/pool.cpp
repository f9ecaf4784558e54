// Pooling layers (the arithmetic is in autograd/functions/pool.cpp).
#include "nn/pool.h"

#include "autograd/ops.h"

namespace remix::nn {

namespace {

Pool2dOptions checked(Pool2dOptions o, const char* layer) {
  if (o.stride == 0) o.stride = o.kernel_size;
  REMIX_CHECK(o.kernel_size > 0 && o.stride > 0 && o.padding >= 0 && 2 * o.padding <= o.kernel_size,
              "{}: expected kernel > 0, stride > 0 and 0 <= padding <= kernel / 2, got kernel {} "
              "stride {} padding {}",
              layer, o.kernel_size, o.stride, o.padding);
  return o;
}

}  // namespace

MaxPool2d::MaxPool2d(const Pool2dOptions& options)
    : Layer("MaxPool2d"), options_(checked(options, "MaxPool2d")) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  const auto& o = options_;
  return traced(max_pool2d(x, o.kernel_size, o.stride, o.padding, o.ceil_mode));
}

AvgPool2d::AvgPool2d(const Pool2dOptions& options)
    : Layer("AvgPool2d"), options_(checked(options, "AvgPool2d")) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  const auto& o = options_;
  return traced(avg_pool2d(x, o.kernel_size, o.stride, o.padding, o.ceil_mode));
}

Tensor GlobalAvgPool::forward(const Tensor& x) {
  return traced(global_avg_pool(x));
}

}  // namespace remix::nn
