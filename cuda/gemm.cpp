// GEMM on the GPU with cuBLAS: c = alpha * op(a) @ op(b) + beta * c for row-major matrices.
//
// cuBLAS is column-major. A row-major M x N matrix read as column-major is its transpose, so
// instead of C = op(A) op(B) cuBLAS computes the same memory as
//   C^T = op(B)^T op(A)^T      (an N x M column-major product),
// which is the call with the operands swapped: first b, then a, each with its own transpose
// flag, and every leading dimension equal to the stored row length.
//
// f32 runs cublasSgemm in full f32 (the handle's math mode forbids TF32, as PyTorch's default
// torch.backends.cuda.matmul.allow_tf32 = False). f16 and bf16 run cublasGemmEx with f32
// accumulation (CUBLAS_COMPUTE_32F) on tensor cores; alpha and beta are f32 in every case.
#include <algorithm>
#include <climits>

#include "cuda/cuda_backend.h"
#include "cuda/runtime.h"

namespace remix {
namespace {

int checked_int(int64_t v, const char* what) {
  REMIX_CHECK(v >= 0 && v <= INT_MAX, "gemm on CUDA: {} = {} does not fit cuBLAS's int", what, v);
  return static_cast<int>(v);
}

cudaDataType_t cublas_dtype(DType t) {
  switch (t) {
    case DType::f32:
      return CUDA_R_32F;
    case DType::f16:
      return CUDA_R_16F;
    case DType::bf16:
      return CUDA_R_16BF;
    default:
      break;
  }
  throw_error(
      fmt::format("gemm on CUDA: expected f32, f16 or bf16 matrices, got {}", dtype_name(t)));
}

}  // namespace

void CudaBackend::gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& a,
                       const Tensor& b, double beta, Tensor& c) {
  const int m = checked_int(c.size(0), "M"), n = checked_int(c.size(1), "N");
  const int k = checked_int(transpose_a ? a.size(0) : a.size(1), "K");
  if (m == 0 || n == 0) return;
  // Leading dimensions: the stored row lengths (at least 1, which cuBLAS requires even when
  // K == 0 and the matrix is empty).
  const int lda = std::max(1, checked_int(a.size(1), "lda"));
  const int ldb = std::max(1, checked_int(b.size(1), "ldb"));
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const float alpha_f = static_cast<float>(alpha), beta_f = static_cast<float>(beta);
  cublasHandle_t handle = cuda::cublas_handle(c.device());
  if (c.dtype() == DType::f32) {
    REMIX_CUBLAS_CHECK(cublasSgemm(handle, op_b, op_a, n, m, k, &alpha_f,
                                   static_cast<const float*>(b.raw_data()), ldb,
                                   static_cast<const float*>(a.raw_data()), lda, &beta_f,
                                   static_cast<float*>(c.raw_data()), n));
    return;
  }
  const cudaDataType_t type = cublas_dtype(c.dtype());
  REMIX_CUBLAS_CHECK(cublasGemmEx(handle, op_b, op_a, n, m, k, &alpha_f, b.raw_data(), type, ldb,
                                  a.raw_data(), type, lda, &beta_f, c.raw_data(), type, n,
                                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace remix
