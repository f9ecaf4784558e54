// Filling cuDNN descriptors from remix shapes and dtypes (see cuda/cudnn_descriptors.h).
#include "cuda/cudnn_descriptors.h"

#include <climits>

#include "tensor/check.h"

namespace remix::cuda {
namespace {

int checked_int(int64_t v, const char* what) {
  REMIX_CHECK(v > 0 && v <= INT_MAX, "cuDNN needs sizes in [1, {}], but {} is {}", INT_MAX, what,
              v);
  return static_cast<int>(v);
}

}  // namespace

cudnnDataType_t cudnn_dtype(DType dtype, const char* what) {
  switch (dtype) {
    case DType::f32:
      return CUDNN_DATA_FLOAT;
    case DType::f16:
      return CUDNN_DATA_HALF;
    case DType::bf16:
      return CUDNN_DATA_BFLOAT16;
    default:
      break;
  }
  throw_error(
      fmt::format("{} on CUDA: expected f32, f16 or bf16 data, got {}", what, dtype_name(dtype)));
}

void set_nhwc(const TensorDescriptor& d, DType dtype, int64_t n, int64_t h, int64_t w, int64_t c) {
  // cudnnSetTensor4dDescriptor takes the sizes in N, C, H, W order whatever the layout.
  REMIX_CUDNN_CHECK(cudnnSetTensor4dDescriptor(
      d.get(), CUDNN_TENSOR_NHWC, cudnn_dtype(dtype, "cuDNN tensor"), checked_int(n, "N"),
      checked_int(c, "C"), checked_int(h, "H"), checked_int(w, "W")));
}

void set_krsc(const FilterDescriptor& d, DType dtype, int64_t k, int64_t r, int64_t s, int64_t c) {
  REMIX_CUDNN_CHECK(cudnnSetFilter4dDescriptor(
      d.get(), cudnn_dtype(dtype, "cuDNN filter"), CUDNN_TENSOR_NHWC, checked_int(k, "K"),
      checked_int(c, "C"), checked_int(r, "R"), checked_int(s, "S")));
}

}  // namespace remix::cuda
