// remix's own batch-norm kernels (cuda/batch_norm_kernels.cu), the path for every call cuDNN does
// not serve (see cuda/batch_norm.cpp): bf16 data (PyTorch does not send bf16 batch norm to cuDNN
// either), odd channel counts, and calls cuDNN declined. Same arguments and results as the
// primitives of tensor/backend.h; x, z, y, dy, dx, dz are rows x C (NHWC or N x C) in f32, f16
// or bf16, statistics and parameters f32. Everything runs on `stream`.
#pragma once

#include <cuda_runtime.h>

#include "tensor/backend.h"

namespace remix::cuda {

void batch_norm_training_own(const BatchNormForward& a, cudaStream_t stream);
void batch_norm_inference_own(const BatchNormForward& a, cudaStream_t stream);
void batch_norm_backward_own(const BatchNormBackward& a, cudaStream_t stream);

}  // namespace remix::cuda
