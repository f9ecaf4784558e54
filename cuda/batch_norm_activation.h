// The element-wise parts of batch norm that cuDNN does not fuse for a given call (see
// cuda/batch_norm.cpp): the residual add and ReLU after the normalisation, and the ReLU mask
// before its backward. Both run on the device's stream over `n` elements of f32, f16 or bf16.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "tensor/dtype.h"

namespace remix::cuda {

// y = relu(y + z) in place; z may be nullptr (no residual) and the ReLU may be off.
void batch_norm_add_relu(void* y, const void* z, bool relu, int64_t n, DType dtype,
                         cudaStream_t stream);

// masked = dy where y > 0, else 0: the gradient that reaches the normalisation (and the residual
// input) through y = relu(...). `masked` may be the same buffer as dy.
void batch_norm_relu_mask(const void* dy, const void* y, void* masked, int64_t n, DType dtype,
                          cudaStream_t stream);

}  // namespace remix::cuda
