// Owned cuDNN descriptors (created in the constructor, destroyed in the destructor) and the
// mapping from remix dtypes to cuDNN's, shared by the files of cuda/ that call cuDNN.
//
// Layouts: activations are NHWC (CUDNN_TENSOR_NHWC) and convolution weights KRSC, which is what
// cuDNN calls an NHWC filter. Descriptors are cached by their users (per shape and dtype), so
// they are built once and only looked up afterwards.
//
// cuDNN 9 marks this descriptor-based ("legacy") API deprecated in favour of its graph API, but
// ships and supports it in every 9.x release; remix uses it on purpose, for its directness. The
// deprecation warnings are silenced for the files that include this header.
#pragma once

#include <cudnn.h>

#include <cstdint>

#include "cuda/runtime.h"
#include "tensor/dtype.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace remix::cuda {

template <class Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
class Descriptor {
 public:
  Descriptor() { REMIX_CUDNN_CHECK(Create(&handle_)); }
  ~Descriptor() { Destroy(handle_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using TensorDescriptor =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
               cudnnDestroyConvolutionDescriptor>;
using ActivationDescriptor =
    Descriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
               cudnnDestroyActivationDescriptor>;

// f32, f16 or bf16; anything else is a remix::Error naming `what`.
cudnnDataType_t cudnn_dtype(DType dtype, const char* what);

// An n x h x w x c activation, packed, in NHWC order.
void set_nhwc(const TensorDescriptor& d, DType dtype, int64_t n, int64_t h, int64_t w, int64_t c);
// A k x r x s x c convolution weight, packed, in KRSC order.
void set_krsc(const FilterDescriptor& d, DType dtype, int64_t k, int64_t r, int64_t s, int64_t c);

}  // namespace remix::cuda
