// REMIX_CUDA_SYNC=1: the CUDA backend waits for the device after every primitive and checks for
// an error there, naming the primitive. Kernels run asynchronously, so without this a fault
// (an illegal address, say) is reported by whichever later call happens to wait, far from its
// cause. With it, the first primitive whose work fails is the one named in the error.
//
// SyncCheckedBackend wraps the CudaBackend: each method forwards the call, then synchronises the
// device's stream and reads the last error. cuda_backend() (cuda/runtime.cpp) hands it out when
// the variable is set; it is for finding faults, and slow.
#include "cuda/sync_check.h"

#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "cuda/cuda_backend.h"
#include "cuda/runtime.h"
#include "tensor/check.h"

namespace remix {
namespace {

// The CudaBackend, with a wait and a check after each primitive.
class SyncCheckedBackend final : public Backend {
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
  void adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr, const AdamWOptions& opt,
                    const Tensor* skip_if) override;
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

 private:
  CudaBackend inner_;
};

}  // namespace
}  // namespace remix

namespace remix::cuda {

bool sync_after_primitives() {
  static const bool on = [] {
    const char* value = std::getenv("REMIX_CUDA_SYNC");
    return value != nullptr && std::string(value) == "1";
  }();
  return on;
}

void check_after_primitive(const char* primitive, Device device) {
  cudaError_t status = cudaStreamSynchronize(stream(device));
  if (status == cudaSuccess) status = cudaGetLastError();
  if (status == cudaSuccess) return;
  cudaGetLastError();
  throw Error(fmt::format(
      "REMIX_CUDA_SYNC: the device reported an error after the primitive {} "
      "on {}: {} ({})",
      primitive, to_string(device), cudaGetErrorString(status), cudaGetErrorName(status)));
}

Backend& sync_checked_backend() {
  static SyncCheckedBackend backend;
  return backend;
}

}  // namespace remix::cuda

namespace remix {

using cuda::check_after_primitive;

void* SyncCheckedBackend::allocate(size_t nbytes, Device device) {
  return inner_.allocate(nbytes, device);
}
void SyncCheckedBackend::deallocate(void* ptr, size_t nbytes, Device device) {
  inner_.deallocate(ptr, nbytes, device);  // no check: may run while the process exits
}
void SyncCheckedBackend::copy_from_host(void* dst, const void* src, size_t nbytes, Device device) {
  inner_.copy_from_host(dst, src, nbytes, device);
  check_after_primitive("copy_from_host", device);
}
void SyncCheckedBackend::copy_to_host(void* dst, const void* src, size_t nbytes, Device device) {
  inner_.copy_to_host(dst, src, nbytes, device);
  check_after_primitive("copy_to_host", device);
}
void SyncCheckedBackend::synchronize(Device device) {
  inner_.synchronize(device);
  check_after_primitive("synchronize", device);
}
void SyncCheckedBackend::fill(Tensor& out, double value) {
  inner_.fill(out, value);
  check_after_primitive("fill", out.device());
}
void SyncCheckedBackend::copy(const Tensor& src, Tensor& dst) {
  inner_.copy(src, dst);
  check_after_primitive("copy", dst.device());
}
void SyncCheckedBackend::cast(const Tensor& src, Tensor& dst) {
  inner_.cast(src, dst);
  check_after_primitive("cast", dst.device());
}
void SyncCheckedBackend::copy_channels(const Tensor& src, int64_t src_start, Tensor& dst,
                                       int64_t dst_start, int64_t count) {
  inner_.copy_channels(src, src_start, dst, dst_start, count);
  check_after_primitive("copy_channels", dst.device());
}
void SyncCheckedBackend::index_select_rows(const Tensor& src, const Tensor& index, Tensor& out) {
  inner_.index_select_rows(src, index, out);
  check_after_primitive("index_select_rows", out.device());
}
void SyncCheckedBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  inner_.binary(op, a, b, out);
  check_after_primitive("binary", out.device());
}
void SyncCheckedBackend::binary_scalar(BinaryOp op, const Tensor& a, double scalar,
                                       bool scalar_first, Tensor& out) {
  inner_.binary_scalar(op, a, scalar, scalar_first, out);
  check_after_primitive("binary_scalar", out.device());
}
void SyncCheckedBackend::unary(UnaryOp op, const Tensor& x, Tensor& out) {
  inner_.unary(op, x, out);
  check_after_primitive("unary", out.device());
}
void SyncCheckedBackend::relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  inner_.relu_backward(dy, y, dx);
  check_after_primitive("relu_backward", dx.device());
}
void SyncCheckedBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes,
                                Tensor& out) {
  inner_.reduce(op, x, axes, out);
  check_after_primitive("reduce", out.device());
}
void SyncCheckedBackend::argmax(const Tensor& x, int axis, Tensor& out) {
  inner_.argmax(x, axis, out);
  check_after_primitive("argmax", out.device());
}
void SyncCheckedBackend::gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& a,
                              const Tensor& b, double beta, Tensor& c) {
  inner_.gemm(transpose_a, transpose_b, alpha, a, b, beta, c);
  check_after_primitive("gemm", c.device());
}
void SyncCheckedBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g,
                                        Tensor& y) {
  inner_.conv2d_forward(x, w, g, y);
  check_after_primitive("conv2d_forward", y.device());
}
void SyncCheckedBackend::conv2d_backward_data(const Tensor& dy, const Tensor& w,
                                              const Conv2dGeometry& g, Tensor& dx) {
  inner_.conv2d_backward_data(dy, w, g, dx);
  check_after_primitive("conv2d_backward_data", dx.device());
}
void SyncCheckedBackend::conv2d_backward_filter(const Tensor& dy, const Tensor& x,
                                                const Conv2dGeometry& g, Tensor& dw) {
  inner_.conv2d_backward_filter(dy, x, g, dw);
  check_after_primitive("conv2d_backward_filter", dw.device());
}
void SyncCheckedBackend::batch_norm_forward_training(const BatchNormForward& args) {
  inner_.batch_norm_forward_training(args);
  check_after_primitive("batch_norm_forward_training", args.y->device());
}
void SyncCheckedBackend::batch_norm_forward_inference(const BatchNormForward& args) {
  inner_.batch_norm_forward_inference(args);
  check_after_primitive("batch_norm_forward_inference", args.y->device());
}
void SyncCheckedBackend::batch_norm_backward(const BatchNormBackward& args) {
  inner_.batch_norm_backward(args);
  check_after_primitive("batch_norm_backward", args.dgamma->device());
}
void SyncCheckedBackend::max_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) {
  inner_.max_pool2d_forward(x, g, y);
  check_after_primitive("max_pool2d_forward", y.device());
}
void SyncCheckedBackend::max_pool2d_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                                             const PoolGeometry& g, Tensor& dx) {
  inner_.max_pool2d_backward(dy, x, y, g, dx);
  check_after_primitive("max_pool2d_backward", dx.device());
}
void SyncCheckedBackend::avg_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) {
  inner_.avg_pool2d_forward(x, g, y);
  check_after_primitive("avg_pool2d_forward", y.device());
}
void SyncCheckedBackend::avg_pool2d_backward(const Tensor& dy, const PoolGeometry& g, Tensor& dx) {
  inner_.avg_pool2d_backward(dy, g, dx);
  check_after_primitive("avg_pool2d_backward", dx.device());
}
void SyncCheckedBackend::roi_align_forward(const Tensor& x, const Tensor& boxes,
                                           const RoiAlignParams& p, Tensor& y) {
  inner_.roi_align_forward(x, boxes, p, y);
  check_after_primitive("roi_align_forward", y.device());
}
void SyncCheckedBackend::roi_align_backward(const Tensor& dy, const Tensor& boxes,
                                            const RoiAlignParams& p, Tensor& dx) {
  inner_.roi_align_backward(dy, boxes, p, dx);
  check_after_primitive("roi_align_backward", dx.device());
}
void SyncCheckedBackend::log_softmax_forward(const Tensor& x, Tensor& y) {
  inner_.log_softmax_forward(x, y);
  check_after_primitive("log_softmax_forward", y.device());
}
void SyncCheckedBackend::log_softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  inner_.log_softmax_backward(dy, y, dx);
  check_after_primitive("log_softmax_backward", dx.device());
}
void SyncCheckedBackend::cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                               Tensor& loss) {
  inner_.cross_entropy_forward(logits, targets, loss);
  check_after_primitive("cross_entropy_forward", loss.device());
}
void SyncCheckedBackend::cross_entropy_backward(const Tensor& dloss, const Tensor& logits,
                                                const Tensor& targets, Tensor& dlogits) {
  inner_.cross_entropy_backward(dloss, logits, targets, dlogits);
  check_after_primitive("cross_entropy_backward", dlogits.device());
}
void SyncCheckedBackend::one_hot(const Tensor& labels, double on_value, double off_value,
                                 Tensor& out) {
  inner_.one_hot(labels, on_value, off_value, out);
  check_after_primitive("one_hot", out.device());
}
void SyncCheckedBackend::sgd_update(const std::vector<SgdSlot>& slots, const Tensor& lr,
                                    const SgdOptions& opt, const Tensor* skip_if) {
  inner_.sgd_update(slots, lr, opt, skip_if);
  check_after_primitive("sgd_update", lr.device());
}
void SyncCheckedBackend::adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr,
                                      const AdamWOptions& opt, const Tensor* skip_if) {
  inner_.adamw_update(slots, lr, opt, skip_if);
  check_after_primitive("adamw_update", lr.device());
}
void SyncCheckedBackend::amp_unscale(const std::vector<Tensor*>& grads, const Tensor& inv_scale,
                                     Tensor& found_inf) {
  inner_.amp_unscale(grads, inv_scale, found_inf);
  check_after_primitive("amp_unscale", found_inf.device());
}
void SyncCheckedBackend::amp_update_scale(Tensor& scale, Tensor& inv_scale, Tensor& found_inf,
                                          Tensor& growth_tracker, double growth, double backoff,
                                          int64_t interval) {
  inner_.amp_update_scale(scale, inv_scale, found_inf, growth_tracker, growth, backoff, interval);
  check_after_primitive("amp_update_scale", scale.device());
}
void SyncCheckedBackend::crop_pad_u8(const Tensor& in, const Tensor& offsets, int64_t pad,
                                     Tensor& out) {
  inner_.crop_pad_u8(in, offsets, pad, out);
  check_after_primitive("crop_pad_u8", out.device());
}
void SyncCheckedBackend::hflip_u8(const Tensor& in, const Tensor& flags, Tensor& out) {
  inner_.hflip_u8(in, flags, out);
  check_after_primitive("hflip_u8", out.device());
}
void SyncCheckedBackend::normalize_u8(const Tensor& in, const std::vector<float>& mean,
                                      const std::vector<float>& std, Tensor& out) {
  inner_.normalize_u8(in, mean, std, out);
  check_after_primitive("normalize_u8", out.device());
}
void SyncCheckedBackend::paste_resized(const Tensor& src, const Tensor& box, Interpolation mode,
                                       Tensor& dst) {
  inner_.paste_resized(src, box, mode, dst);
  check_after_primitive("paste_resized", dst.device());
}
void SyncCheckedBackend::paste_box(const Tensor& src, const Tensor& box, Tensor& dst) {
  inner_.paste_box(src, box, dst);
  check_after_primitive("paste_box", dst.device());
}
void SyncCheckedBackend::fill_box(const Tensor& boxes, double value, Tensor& dst) {
  inner_.fill_box(boxes, value, dst);
  check_after_primitive("fill_box", dst.device());
}

}  // namespace remix
