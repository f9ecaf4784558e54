// The CPU implementation of the primitive table (tensor/backend.h). Each group of methods is
// defined in the file named after its concept (memory.cpp, copy.cpp, elementwise.cpp, reduce.cpp,
// gemm.cpp, conv.cpp, batch_norm.cpp, pool.cpp, roi_align.cpp, softmax.cpp, optimizer.cpp,
// amp.cpp, image.cpp, mix.cpp). Kernels compute in f32 and are threaded with OpenMP; the
// 16-bit float types can be stored, cast and copied but not computed on.
#pragma once

#include "tensor/backend.h"

namespace remix {

class CpuBackend final : public Backend {
 public:
  void* allocate(size_t nbytes, Device device) override;
  void deallocate(void* ptr, size_t nbytes, Device device) override;
  void copy_from_host(void* dst, const void* src, size_t nbytes, Device device) override;
  void copy_to_host(void* dst, const void* src, size_t nbytes, Device device) override;
  void synchronize(Device device) override;
  void fill(Tensor& out, double value) override;
  void copy(const Tensor& src, Tensor& dst) override;
  void cast(const Tensor& src, Tensor& dst) override;
  void copy_channels(const Tensor& src, int64_t src_start, Tensor& dst, int64_t dst_start,
                     int64_t count) override;
  void index_select_rows(const Tensor& src, const Tensor& index, Tensor& out) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void binary_scalar(BinaryOp op, const Tensor& a, double scalar, bool scalar_first,
                     Tensor& out) override;
  void unary(UnaryOp op, const Tensor& x, Tensor& out) override;
  void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) override;
  void reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, Tensor& out) override;
  void argmax(const Tensor& x, int axis, Tensor& out) override;
  void gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& a, const Tensor& b,
            double beta, Tensor& c) override;
  void conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g,
                      Tensor& y) override;
  void conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g,
                            Tensor& dx) override;
  void conv2d_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g,
                              Tensor& dw) override;
  void batch_norm_forward_training(const BatchNormForward& args) override;
  void batch_norm_forward_inference(const BatchNormForward& args) override;
  void batch_norm_backward(const BatchNormBackward& args) override;
  void max_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) override;
  void max_pool2d_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                           const PoolGeometry& g, Tensor& dx) override;
  void avg_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) override;
  void avg_pool2d_backward(const Tensor& dy, const PoolGeometry& g, Tensor& dx) override;
  void roi_align_forward(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p,
                         Tensor& y) override;
  void roi_align_backward(const Tensor& dy, const Tensor& boxes, const RoiAlignParams& p,
                          Tensor& dx) override;
  void log_softmax_forward(const Tensor& x, Tensor& y) override;
  void log_softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx) override;
  void cross_entropy_forward(const Tensor& logits, const Tensor& targets, Tensor& loss) override;
  void cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets,
                              Tensor& dlogits) override;
  void one_hot(const Tensor& labels, double on_value, double off_value, Tensor& out) override;
  void sgd_update(const std::vector<SgdSlot>& slots, const Tensor& lr, const SgdOptions& opt,
                  const Tensor* skip_if) override;
  void adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr,
                    const AdamWOptions& opt, const Tensor* skip_if) override;
  void amp_unscale(const std::vector<Tensor*>& grads, const Tensor& inv_scale,
                   Tensor& found_inf) override;
  void amp_update_scale(Tensor& scale, Tensor& inv_scale, Tensor& found_inf, Tensor& growth_tracker,
                        double growth, double backoff, int64_t interval) override;
  void crop_pad_u8(const Tensor& in, const Tensor& offsets, int64_t pad, Tensor& out) override;
  void hflip_u8(const Tensor& in, const Tensor& flags, Tensor& out) override;
  void normalize_u8(const Tensor& in, const std::vector<float>& mean, const std::vector<float>& std,
                    Tensor& out) override;
  void paste_resized(const Tensor& src, const Tensor& box, Interpolation mode,
                     Tensor& dst) override;
  void paste_box(const Tensor& src, const Tensor& box, Tensor& dst) override;
  void fill_box(const Tensor& boxes, double value, Tensor& dst) override;
};

}  // namespace remix
