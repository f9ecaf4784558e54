// The table of primitives: every operation remix can run on a device, in one list.
//
// Each device kind implements this interface once: tensor/cpu/ (CpuBackend) and cuda/
// (CudaBackend). A tensor's device picks the backend (backend_for), and that is the only
// dispatch in remix: layers never test for CUDA. Primitives write into outputs the caller has
// allocated with the right shape, dtype and device; the checked, allocating wrappers that most
// code calls are in tensor/primitives.h. Gradients are not computed here: autograd/ combines
// forward and backward primitives.
//
// Letters: N batch, H/W input height/width, C input channels, K output channels (or classes),
// R/S kernel height/width, P/Q output height/width. Activations are NHWC, conv weights KRSC.
//
// Adding a primitive: declare it here (pure virtual), implement it in tensor/cpu/<concept>.cpp and
// cuda/<concept>.cu, add its checked wrapper to tensor/primitives.h, and test it (CPU against a
// naive reference, CUDA against the CPU). Because the methods are pure virtual, a backend that
// misses one does not compile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace remix {

// a (op) b, element by element. The comparisons give 1 where true and 0 where false.
// Each list below is the one place an op is named: the enum and the array of every op (which the
// tests iterate) both come from it. Adding an op without its CPU case (tensor/cpu/elementwise.cpp)
// and its CUDA case (cuda/elementwise.cu) does not compile: both switch over every enumerator,
// without a default, under -Werror=switch.
#define REMIX_BINARY_OPS(X) X(add) X(sub) X(mul) X(div) X(maximum) X(minimum) X(pow) X(equal) X(greater)
#define REMIX_UNARY_OPS(X) \
  X(neg) X(exp) X(log) X(sqrt) X(rsqrt) X(abs) X(relu) X(sigmoid) X(tanh) X(square) X(reciprocal)

#define REMIX_OP_ENUMERATOR(name) name,
enum class BinaryOp { REMIX_BINARY_OPS(REMIX_OP_ENUMERATOR) };
enum class UnaryOp { REMIX_UNARY_OPS(REMIX_OP_ENUMERATOR) };
#undef REMIX_OP_ENUMERATOR

#define REMIX_BINARY_OP_VALUE(name) BinaryOp::name,
#define REMIX_UNARY_OP_VALUE(name) UnaryOp::name,
inline constexpr BinaryOp kBinaryOps[] = {REMIX_BINARY_OPS(REMIX_BINARY_OP_VALUE)};
inline constexpr UnaryOp kUnaryOps[] = {REMIX_UNARY_OPS(REMIX_UNARY_OP_VALUE)};
#undef REMIX_BINARY_OP_VALUE
#undef REMIX_UNARY_OP_VALUE
enum class ReduceOp { sum, mean, max };
enum class Interpolation { nearest, bilinear };

// Shapes of a 2-D convolution (cross-correlation, as in every framework).
struct Conv2dGeometry {
  int64_t N = 0, H = 0, W = 0, C = 0;   // input  N x H x W x C
  int64_t K = 0, R = 0, S = 0;          // weight K x R x S x C
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t P = 0, Q = 0;                 // output N x P x Q x K
};
// Fills P and Q: P = (H + 2*pad_h - R) / stride_h + 1, likewise Q. Throws on impossible shapes.
Conv2dGeometry make_conv2d_geometry(const Shape& x, const Shape& w, int64_t stride_h,
                                    int64_t stride_w, int64_t pad_h, int64_t pad_w);

// Shapes of max/average pooling. Output size follows PyTorch:
//   P = floor_or_ceil((H + 2*pad_h - R) / stride_h) + 1, and with ceil_mode the last window
//   must start inside the (left-padded) input.
// Average pooling divides by the window size clipped to the padded input (count_include_pad).
struct PoolGeometry {
  int64_t N = 0, H = 0, W = 0, C = 0;
  int64_t R = 0, S = 0, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
  int64_t P = 0, Q = 0;
};
PoolGeometry make_pool_geometry(const Shape& x, int64_t R, int64_t S, int64_t stride_h,
                                int64_t stride_w, int64_t pad_h, int64_t pad_w, bool ceil_mode);

// Batch normalisation over N, H, W for each channel C of an NHWC (or N x C) tensor, optionally
// fused with a residual add and a ReLU:  y = act(gamma * (x - mean) * invstd + beta [+ z]).
// Statistics, gamma and beta are always f32; x, z, y may be f32, f16 or bf16.
enum class BatchNormActivation { none, relu };
struct BatchNormForward {
  const Tensor* x = nullptr;
  const Tensor* z = nullptr;       // residual added before the activation, or nullptr
  const Tensor* gamma = nullptr;   // C
  const Tensor* beta = nullptr;    // C
  Tensor* running_mean = nullptr;  // C, updated in training: (1 - momentum) * old + momentum * new
  Tensor* running_var = nullptr;   // C, updated with the unbiased batch variance (PyTorch)
  BatchNormActivation activation = BatchNormActivation::none;
  double momentum = 0.1, eps = 1e-5;
  Tensor* y = nullptr;
  Tensor* save_mean = nullptr;     // C, training only: batch mean
  Tensor* save_invstd = nullptr;   // C, training only: 1 / sqrt(biased batch var + eps)
};
struct BatchNormBackward {
  const Tensor* dy = nullptr;
  const Tensor* x = nullptr;
  const Tensor* y = nullptr;       // the forward output (needed to mask the ReLU)
  const Tensor* gamma = nullptr;
  const Tensor* beta = nullptr;
  const Tensor* save_mean = nullptr;
  const Tensor* save_invstd = nullptr;
  BatchNormActivation activation = BatchNormActivation::none;
  double eps = 1e-5;
  Tensor* dx = nullptr;
  Tensor* dz = nullptr;            // gradient of the residual input, when the forward had one
  Tensor* dgamma = nullptr;
  Tensor* dbeta = nullptr;
};

// ROI-Align (Mask R-CNN), as torchvision.ops.roi_align computes it, on NHWC features.
// Box b = (x1, y1, x2, y2) in input-image coordinates belongs to image b (one box per image).
struct RoiAlignParams {
  int64_t out_h = 1, out_w = 1;
  double spatial_scale = 1.0;  // feature size / image size
  int64_t sampling_ratio = -1;  // samples per bin side; <= 0: adaptive, ceil(roi size / out size)
  bool aligned = true;          // subtract half a pixel from the scaled box (pixel centres)
};

// torch.optim.SGD for one parameter:
//   g = grad + weight_decay * p;  buf = momentum * buf + (1 - dampening) * g  (buf = g the first
//   time);  g = nesterov ? g + momentum * buf : buf;  p -= lr * g.
struct SgdOptions {
  double momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
};
// torch.optim.AdamW: p *= 1 - lr * wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
};
// One parameter's tensors for an update (f32, on one device; momentum_buffer is not used without
// momentum). The updates take all parameters at once: one kernel launch on a GPU.
struct SgdSlot {
  Tensor* param = nullptr;
  const Tensor* grad = nullptr;
  Tensor* momentum_buffer = nullptr;
  Tensor* step = nullptr;
};
struct AdamWSlot {
  Tensor* param = nullptr;
  const Tensor* grad = nullptr;
  Tensor* exp_avg = nullptr;
  Tensor* exp_avg_sq = nullptr;
  Tensor* step = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // ---------------------------------------------------------------- memory (tensor/cpu/memory)
  virtual void* allocate(size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, size_t nbytes, Device device) = 0;
  virtual void copy_from_host(void* dst, const void* src, size_t nbytes, Device device) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t nbytes, Device device) = 0;
  virtual void synchronize(Device device) = 0;

  // -------------------------------------------------------- data movement (tensor/cpu/copy)
  virtual void fill(Tensor& out, double value) = 0;
  // dst = src with NumPy broadcasting of src's shape to dst's; same dtype.
  virtual void copy(const Tensor& src, Tensor& dst) = 0;
  // dst = src converted to dst's dtype (same shape); floats to integers truncate toward zero.
  virtual void cast(const Tensor& src, Tensor& dst) = 0;
  // dst[..., dst_start + i] = src[..., src_start + i] for i < count, over the last axis, where
  // src and dst agree on every other axis (channel slicing, concatenation and padding in NHWC).
  virtual void copy_channels(const Tensor& src, int64_t src_start, Tensor& dst, int64_t dst_start,
                             int64_t count) = 0;
  // out[i] = src[index[i]] along axis 0; index is i32.
  virtual void index_select_rows(const Tensor& src, const Tensor& index, Tensor& out) = 0;

  // ------------------------------------------------- elementwise (tensor/cpu/elementwise)
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) = 0;
  // out = a (op) scalar, or scalar (op) a when scalar_first.
  virtual void binary_scalar(BinaryOp op, const Tensor& a, double scalar, bool scalar_first,
                             Tensor& out) = 0;
  virtual void unary(UnaryOp op, const Tensor& x, Tensor& out) = 0;
  // dx = dy * (y > 0): the ReLU backward from its output.
  virtual void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) = 0;

  // ----------------------------------------------------------- reductions (tensor/cpu/reduce)
  // out has x's shape with the reduced axes of size 1 or removed (same element order).
  virtual void reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, Tensor& out) = 0;
  // Index (i32) of the first maximum along `axis`.
  virtual void argmax(const Tensor& x, int axis, Tensor& out) = 0;

  // ----------------------------------------------------------------- GEMM (tensor/cpu/gemm)
  // c = alpha * op(a) @ op(b) + beta * c with op(m) = m or m^T; all 2-D, row-major.
  virtual void gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& a,
                    const Tensor& b, double beta, Tensor& c) = 0;

  // ---------------------------------------------------------- convolution (tensor/cpu/conv)
  virtual void conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g,
                              Tensor& y) = 0;
  virtual void conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g,
                                    Tensor& dx) = 0;
  virtual void conv2d_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g,
                                      Tensor& dw) = 0;

  // ----------------------------------------------------- batch norm (tensor/cpu/batch_norm)
  virtual void batch_norm_forward_training(const BatchNormForward& args) = 0;
  virtual void batch_norm_forward_inference(const BatchNormForward& args) = 0;
  virtual void batch_norm_backward(const BatchNormBackward& args) = 0;

  // ------------------------------------------------------------- pooling (tensor/cpu/pool)
  virtual void max_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) = 0;
  virtual void max_pool2d_backward(const Tensor& dy, const Tensor& x, const Tensor& y,
                                   const PoolGeometry& g, Tensor& dx) = 0;
  virtual void avg_pool2d_forward(const Tensor& x, const PoolGeometry& g, Tensor& y) = 0;
  virtual void avg_pool2d_backward(const Tensor& dy, const PoolGeometry& g, Tensor& dx) = 0;

  // ------------------------------------------------------- ROI-Align (tensor/cpu/roi_align)
  // x: N x H x W x C, boxes: N x 4 (f32), y: N x out_h x out_w x C.
  virtual void roi_align_forward(const Tensor& x, const Tensor& boxes, const RoiAlignParams& p,
                                 Tensor& y) = 0;
  virtual void roi_align_backward(const Tensor& dy, const Tensor& boxes, const RoiAlignParams& p,
                                  Tensor& dx) = 0;

  // ------------------------------------------------------------ softmax (tensor/cpu/softmax)
  // Over the last axis: y = x - max(x) - log(sum(exp(x - max(x)))).
  virtual void log_softmax_forward(const Tensor& x, Tensor& y) = 0;
  // dx = dy - exp(y) * sum(dy) over the last axis.
  virtual void log_softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx) = 0;
  // Per row n of N x K f32 logits z and targets t: loss[n] = -sum_k t[n,k] * log_softmax(z)[n,k].
  virtual void cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                     Tensor& loss) = 0;
  // dlogits[n,k] = dloss[n] * (softmax(z)[n,k] * sum_j t[n,j] - t[n,k]).
  virtual void cross_entropy_backward(const Tensor& dloss, const Tensor& logits,
                                      const Tensor& targets, Tensor& dlogits) = 0;
  // out[n,k] = (labels[n] == k) ? on_value : off_value; labels i32 in [0, K).
  virtual void one_hot(const Tensor& labels, double on_value, double off_value, Tensor& out) = 0;

  // -------------------------------------------------- optimizers (tensor/cpu/optimizer), in place
  // lr is a one-element f32 tensor on the device (so a captured step reads the current value).
  // step is a one-element f32 tensor on the device, PyTorch's state['step']: the updates applied
  // to this parameter so far. An update runs as update t = step + 1 (SGD's first, t = 1, starts
  // the momentum buffer with g; AdamW's bias correction uses t) and leaves step = t.
  // If skip_if is given (one f32 element, nonzero = skip), nothing changes, step included: this is
  // how a step with non-finite fp16 gradients is dropped without the host looking at them, as
  // PyTorch's GradScaler drops it by not calling optimizer.step().
  // Each call updates every slot (a GPU does them all in one kernel launch).
  virtual void sgd_update(const std::vector<SgdSlot>& slots, const Tensor& lr,
                          const SgdOptions& opt, const Tensor* skip_if) = 0;
  virtual void adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr,
                            const AdamWOptions& opt, const Tensor* skip_if) = 0;
  // Mixed precision (tensor/cpu/amp): grad *= inv_scale for every gradient of the list;
  // found_inf = 1 if any result is not finite (found_inf is never reset here).
  virtual void amp_unscale(const std::vector<Tensor*>& grads, const Tensor& inv_scale,
                           Tensor& found_inf) = 0;
  // Dynamic loss scaling as torch.amp.GradScaler.update: on found_inf scale *= backoff and the
  // growth counter resets; otherwise after `interval` good steps scale *= growth. Also sets
  // inv_scale = 1 / scale and clears found_inf.
  virtual void amp_update_scale(Tensor& scale, Tensor& inv_scale, Tensor& found_inf,
                                Tensor& growth_tracker, double growth, double backoff,
                                int64_t interval) = 0;

  // --------------------------------------------------- image pipeline (tensor/cpu/image), NHWC
  // out[n] = crop of in[n] zero-padded by `pad` on each side, at offset (offsets[n,0] rows,
  // offsets[n,1] columns) into the padded image; u8, in and out the same size; offsets i32.
  virtual void crop_pad_u8(const Tensor& in, const Tensor& offsets, int64_t pad, Tensor& out) = 0;
  // out[n] = flip_left_right(in[n]) where flags[n] != 0 (u8 flags), else in[n].
  virtual void hflip_u8(const Tensor& in, const Tensor& flags, Tensor& out) = 0;
  // out = (in / 255 - mean[c]) / std[c]; in u8, out f32/f16/bf16; mean/std have C entries.
  virtual void normalize_u8(const Tensor& in, const std::vector<float>& mean,
                            const std::vector<float>& std, Tensor& out) = 0;

  // ---------------------------------------------- batch augmentation (tensor/cpu/mix), NHWC
  // Boxes are i32 (x1, y1, x2, y2), half-open, one row per image or a single row for all.
  // dst[n][box] = resize(src[n], box size) for n < dst.N (src.N >= dst.N): RecursiveMix.
  virtual void paste_resized(const Tensor& src, const Tensor& box, Interpolation mode,
                             Tensor& dst) = 0;
  // dst[n][box] = src[n][box]: CutMix (src is the permuted batch).
  virtual void paste_box(const Tensor& src, const Tensor& box, Tensor& dst) = 0;
  // dst[n][box_n] = value: Cutout.
  virtual void fill_box(const Tensor& boxes, double value, Tensor& dst) = 0;
};

Backend& cpu_backend();
// The CUDA backend; throws a remix::Error when remix was built without CUDA.
Backend& cuda_backend();
// True when remix was built with CUDA and a device is present.
bool cuda_available();
int cuda_device_count();
// Why cuda_available() is false, in words (the driver's error when asking for the devices failed,
// "no CUDA backend in this build", ...); empty when a device is present.
std::string cuda_unavailable_reason();
Backend& backend_for(Device device);

// Memory held by a device's caching allocator (cuda/allocator.cpp). The CPU reports zeros: the
// operating system manages host memory (a process's peak is getrusage's ru_maxrss).
struct DeviceMemoryStats {
  size_t allocated = 0;       // bytes requested by tensors now (PyTorch's memory_allocated)
  size_t peak_allocated = 0;  // highest `allocated` since the last reset (max_memory_allocated)
  size_t reserved = 0;        // bytes obtained from the driver: tensors' blocks rounded up + cached
};
DeviceMemoryStats device_memory_stats(Device device);
void reset_peak_device_memory(Device device);
// How many uploads to `device` so far had to wait on the host for an earlier upload's copy to
// finish (its staging memory was still in use); 0 on the CPU. remix-bench reports it per step.
int64_t device_upload_waits(Device device);
// "cpu", or the GPU's name as the driver reports it.
std::string device_name(Device device);

}  // namespace remix
