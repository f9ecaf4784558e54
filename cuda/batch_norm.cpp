// Batch normalisation on the GPU with cuDNN, optionally fused with a residual add and a ReLU:
//   y = act(gamma * (x - mean) * invstd + beta [+ z]),  invstd = 1 / sqrt(var + eps).
// x, z, y are NHWC (or N x C, seen as N x 1 x 1 x C) in f32, f16 or bf16; statistics are f32.
//
// bf16 data and odd channel counts go to remix's own kernels (cuda/batch_norm_kernels.cu), as do
// calls cuDNN declined; PyTorch does not send bf16 batch norm to cuDNN either. Otherwise, in
// training, fastest first:
//   1. cudnnBatchNormalizationForwardTrainingEx in CUDNN_BATCHNORM_SPATIAL_PERSISTENT mode with
//      the add and ReLU fused into cuDNN's kernel (bnOps BN_ACTIVATION or BN_ADD_ACTIVATION);
//   2. the same call with bnOps BN, the add and ReLU done by a small own kernel
//      (cuda/batch_norm_activation.cu);
//   3. the plain cudnnBatchNormalizationForwardTraining (CUDNN_BATCHNORM_SPATIAL), same kernel.
// cuDNN documents its Ex (persistent NHWC) kernels only for fully packed NHWC tensors of
// CUDNN_DATA_HALF with C a multiple of 4 in the persistent mode, so paths 1 and 2 are tried only
// for f16 with C % 4 == 0; everything else goes path 3 at once. Even then cuDNN may refuse: any
// status other than success from an Ex call (or its size queries) counts as "declined" (the call
// has written nothing), is remembered for that shape and bnOps, is logged once on stderr, and the
// call takes the next path; when both Ex paths are declined, that is the own kernels.
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "cuda/batch_norm_activation.h"
#include "cuda/batch_norm_kernels.h"
#include "cuda/cuda_backend.h"
#include "cuda/cudnn_descriptors.h"

namespace remix {
namespace {

constexpr cudnnBatchNormMode_t kPersistent = CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
constexpr cudnnBatchNormMode_t kSpatial = CUDNN_BATCHNORM_SPATIAL;
constexpr cudnnBatchNormOps_t kOpsBn = CUDNN_BATCHNORM_OPS_BN;
const float kOne = 1.0f, kZero = 0.0f;  // out = 1 * result + 0 * out

// ------------------------------------------------------------------- descriptors, per shape

struct BnKey {
  int device = 0;
  DType dtype = DType::f32;
  int64_t n = 0, h = 0, w = 0, c = 0;
  auto operator<=>(const BnKey&) const = default;
};

struct BnDescriptors {
  BnKey key;
  cuda::TensorDescriptor data;   // x, y, z, dx, dy, dz: N x H x W x C, NHWC
  cuda::TensorDescriptor stats;  // gamma, beta, means, variances: 1 x C x 1 x 1, f32
  cuda::ActivationDescriptor relu;
  std::array<std::atomic<bool>, 3> ex_declined{};  // by bnOps: cuDNN declined the Ex path
};

// x as cuDNN's N x H x W x C: 4-d tensors as they are, N x ... x C with the middle axes as H.
BnKey key_of(const Tensor& x) {
  const Shape& s = x.shape();
  if (s.size() == 4) return {x.device().index, x.dtype(), s[0], s[1], s[2], s[3]};
  return {x.device().index, x.dtype(), s[0], x.numel() / (s[0] * s.back()), 1, s.back()};
}

using BnCache = std::map<BnKey, std::unique_ptr<BnDescriptors>>;

BnDescriptors& descriptors_for(const Tensor& x) {
  // Emptied by cuda::release_caches() at exit, before cuDNN's teardown (cuda/runtime.h).
  cuda::ReleasedCache<BnCache>& cache = cuda::released_cache<BnCache>();
  const BnKey key = key_of(x);
  std::lock_guard lock(cache.mutex);
  std::unique_ptr<BnDescriptors>& d = cache.map[key];
  if (!d) {
    auto created = std::make_unique<BnDescriptors>();
    created->key = key;
    cuda::set_nhwc(created->data, key.dtype, key.n, key.h, key.w, key.c);
    REMIX_CUDNN_CHECK(
        cudnnDeriveBNTensorDescriptor(created->stats.get(), created->data.get(), kSpatial));
    // NaN is not propagated, like the CPU's ReLU (NaN > 0 is false, so it gives 0).
    REMIX_CUDNN_CHECK(cudnnSetActivationDescriptor(created->relu.get(), CUDNN_ACTIVATION_RELU,
                                                   CUDNN_NOT_PROPAGATE_NAN, 0.0));
    d = std::move(created);
  }
  return *d;
}

// What cuDNN fuses for a call with (or without) a residual and a ReLU. A residual without ReLU
// has no fused form: it is bnOps BN and the add is done by the own kernel.
cudnnBatchNormOps_t fused_ops(bool residual, bool relu) {
  if (!relu) return kOpsBn;
  return residual ? CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION : CUDNN_BATCHNORM_OPS_BN_ACTIVATION;
}

// The conditions under which cuDNN documents its Ex batch norm (NHWC, which remix always uses,
// and the persistent mode, which every Ex call here asks for, besides these two).
bool ex_documented(const BnKey& key) {
  return key.dtype == DType::f16 && key.c % 4 == 0;
}

// Shapes cuDNN is not asked about at all.
bool own_kernels(const BnKey& key) {
  return key.dtype == DType::bf16 || key.c % 2 == 1;
}

constexpr const char* kOpsNames[] = {"BN", "BN_ACTIVATION", "BN_ADD_ACTIVATION"};

// Success: true. Anything else: cuDNN declined this Ex path for this shape (nothing is written
// before it answers); it is remembered, logged the first time, and the caller falls back.
bool accepted(cudnnStatus_t status, BnDescriptors& d, cudnnBatchNormOps_t ops, const char* call) {
  if (status == CUDNN_STATUS_SUCCESS) return true;
  // A launch that failed inside cuDNN may leave the runtime's last error set; clear it, so that
  // the launch check of the next own kernel does not report it as its own.
  cudaGetLastError();
  if (!d.ex_declined[ops].exchange(true)) {
    const BnKey& k = d.key;
    std::fprintf(stderr, "%s",
                 fmt::format("remix: cuDNN declined {} (bnOps {}) for {} NHWC {}x{}x{}x{}: {}; "
                             "batch norm of this shape takes the next path\n",
                             call, kOpsNames[ops], dtype_name(k.dtype), k.n, k.h, k.w, k.c,
                             cudnnGetErrorString(status))
                     .c_str());
  }
  return false;
}

Tensor scratch(size_t bytes, Device device) {
  return Tensor({static_cast<int64_t>(bytes)}, DType::u8, device);
}

// ------------------------------------------------ reserve spaces, from a forward to its backward

struct SavedForward {
  std::weak_ptr<Storage> save_mean;  // the entry is valid while this storage lives
  bool used_ex = false;              // the Ex (persistent) path
  bool used_own = false;             // remix's own kernels
  cudnnBatchNormOps_t ops = kOpsBn;  // what cuDNN fused; the backward must use the same
  Tensor reserve;
};

class SavedForwards {
 public:
  void put(SavedForward entry) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [](const auto& e) { return e.second.save_mean.expired(); });
    const Storage* key = entry.save_mean.lock().get();
    entries_[key] = std::move(entry);
  }

  std::optional<SavedForward> take(const Tensor& save_mean) {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(save_mean.storage().get());
    if (it == entries_.end()) return std::nullopt;
    std::optional<SavedForward> found;
    // A dead storage whose address was reused is not this forward's.
    if (it->second.save_mean.lock() == save_mean.storage()) found = std::move(it->second);
    entries_.erase(it);
    return found;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<const Storage*, SavedForward> entries_;
};

SavedForwards& saved_forwards() {
  static auto* saved = new SavedForwards();  // never destroyed, like the tensors it may hold
  return *saved;
}

// ------------------------------------------------------------------------- training forward

bool forward_training_ex(cudnnHandle_t h, BnDescriptors& d, const BatchNormForward& a,
                         cudnnBatchNormOps_t ops, SavedForward& saved) {
  if (!ex_documented(d.key) || d.ex_declined[ops]) return false;
  const bool with_z = ops == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION;
  cudnnActivationDescriptor_t act = ops == kOpsBn ? nullptr : d.relu.get();
  cudnnTensorDescriptor_t z_desc = with_z ? d.data.get() : nullptr;
  size_t workspace_bytes = 0, reserve_bytes = 0;
  cudnnStatus_t status = cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(
      h, kPersistent, ops, d.data.get(), z_desc, d.data.get(), d.stats.get(), act,
      &workspace_bytes);
  if (!accepted(status, d, ops, "cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize"))
    return false;
  status = cudnnGetBatchNormalizationTrainingExReserveSpaceSize(h, kPersistent, ops, act,
                                                                d.data.get(), &reserve_bytes);
  if (!accepted(status, d, ops, "cudnnGetBatchNormalizationTrainingExReserveSpaceSize"))
    return false;
  const Device device = a.x->device();
  Tensor workspace = scratch(workspace_bytes, device);
  Tensor reserve = scratch(reserve_bytes, device);
  status = cudnnBatchNormalizationForwardTrainingEx(
      h, kPersistent, ops, &kOne, &kZero, d.data.get(), a.x->raw_data(), z_desc,
      with_z ? a.z->raw_data() : nullptr, d.data.get(), a.y->raw_data(), d.stats.get(),
      a.gamma->raw_data(), a.beta->raw_data(), a.momentum, a.running_mean->raw_data(),
      a.running_var->raw_data(), a.eps, a.save_mean->raw_data(), a.save_invstd->raw_data(), act,
      workspace.raw_data(), workspace_bytes, reserve.raw_data(), reserve_bytes);
  if (!accepted(status, d, ops, "cudnnBatchNormalizationForwardTrainingEx")) return false;
  saved.used_ex = true;
  saved.ops = ops;
  saved.reserve = reserve;
  return true;
}

void forward_training_plain(cudnnHandle_t h, const BnDescriptors& d, const BatchNormForward& a) {
  REMIX_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      h, kSpatial, &kOne, &kZero, d.data.get(), a.x->raw_data(), d.data.get(), a.y->raw_data(),
      d.stats.get(), a.gamma->raw_data(), a.beta->raw_data(), a.momentum,
      a.running_mean->raw_data(), a.running_var->raw_data(), a.eps, a.save_mean->raw_data(),
      a.save_invstd->raw_data()));
}

// ---------------------------------------------------------------------------------- backward

// The gradient that reaches the normalisation's output through what the forward did outside
// cuDNN (the ReLU and the residual add, when `fused` is bnOps BN); writes dz in that case.
Tensor gradient_through_tail(const BatchNormBackward& a, cudnnBatchNormOps_t fused,
                             cudaStream_t stream) {
  const Tensor& dy = *a.dy;
  if (fused != kOpsBn) return dy;  // cuDNN masks (and writes dz) itself
  if (a.activation != BatchNormActivation::relu) {
    if (a.dz != nullptr)
      REMIX_CUDA_CHECK(cudaMemcpyAsync(a.dz->raw_data(), dy.raw_data(), dy.nbytes(),
                                       cudaMemcpyDeviceToDevice, stream));
    return dy;
  }
  REMIX_CHECK(a.y != nullptr, "batch_norm_backward on CUDA: the ReLU mask needs the output y");
  Tensor masked = a.dz != nullptr ? *a.dz : Tensor(dy.shape(), dy.dtype(), dy.device());
  cuda::batch_norm_relu_mask(dy.raw_data(), a.y->raw_data(), masked.raw_data(), dy.numel(),
                             dy.dtype(), stream);
  return masked;
}

bool backward_ex(cudnnHandle_t h, BnDescriptors& d, const BatchNormBackward& a,
                 const SavedForward& saved, cudaStream_t stream) {
  const cudnnBatchNormOps_t ops = saved.ops;
  const bool with_act = ops != kOpsBn, with_z = ops == CUDNN_BATCHNORM_OPS_BN_ADD_ACTIVATION;
  cudnnActivationDescriptor_t act = with_act ? d.relu.get() : nullptr;
  cudnnTensorDescriptor_t y_desc = with_act ? d.data.get() : nullptr;
  cudnnTensorDescriptor_t dz_desc = with_z ? d.data.get() : nullptr;
  size_t workspace_bytes = 0;
  // The size query gets y's descriptor in every case (as PyTorch passes it); the call gets y only
  // when cuDNN applies the ReLU.
  cudnnStatus_t status = cudnnGetBatchNormalizationBackwardExWorkspaceSize(
      h, kPersistent, ops, d.data.get(), d.data.get(), d.data.get(), dz_desc, d.data.get(),
      d.stats.get(), act, &workspace_bytes);
  if (!accepted(status, d, ops, "cudnnGetBatchNormalizationBackwardExWorkspaceSize")) return false;
  const Tensor dy = gradient_through_tail(a, ops, stream);
  Tensor workspace = scratch(workspace_bytes, dy.device());
  status = cudnnBatchNormalizationBackwardEx(
      h, kPersistent, ops, &kOne, &kZero, &kOne, &kZero, d.data.get(), a.x->raw_data(), y_desc,
      with_act ? a.y->raw_data() : nullptr, d.data.get(), dy.raw_data(), dz_desc,
      with_z ? a.dz->raw_data() : nullptr, d.data.get(), a.dx->raw_data(), d.stats.get(),
      a.gamma->raw_data(), a.beta->raw_data(), a.dgamma->raw_data(), a.dbeta->raw_data(), a.eps,
      a.save_mean->raw_data(), a.save_invstd->raw_data(), act, workspace.raw_data(),
      workspace_bytes, saved.reserve.raw_data(), saved.reserve.nbytes());
  return accepted(status, d, ops, "cudnnBatchNormalizationBackwardEx");
}

void backward_plain(cudnnHandle_t h, const BnDescriptors& d, const BatchNormBackward& a,
                    cudaStream_t stream) {
  const Tensor dy = gradient_through_tail(a, kOpsBn, stream);
  REMIX_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      h, kSpatial, &kOne, &kZero, &kOne, &kZero, d.data.get(), a.x->raw_data(), d.data.get(),
      dy.raw_data(), d.data.get(), a.dx->raw_data(), d.stats.get(), a.gamma->raw_data(),
      a.dgamma->raw_data(), a.dbeta->raw_data(), a.eps, a.save_mean->raw_data(),
      a.save_invstd->raw_data()));
}

void zero_fill(Tensor& t, cudaStream_t stream) {
  if (t.nbytes() > 0) REMIX_CUDA_CHECK(cudaMemsetAsync(t.raw_data(), 0, t.nbytes(), stream));
}

}  // namespace

void CudaBackend::batch_norm_forward_training(const BatchNormForward& a) {
  const bool relu = a.activation == BatchNormActivation::relu;
  cudaStream_t stream = cuda::stream(a.x->device());
  SavedForward saved;
  saved.save_mean = a.save_mean->storage();
  if (own_kernels(key_of(*a.x))) {  // cuDNN is not asked at all
    saved.used_own = true;
    cuda::batch_norm_training_own(a, stream);
    saved_forwards().put(std::move(saved));
    return;
  }
  cudnnHandle_t h = cuda::cudnn_handle(a.x->device());
  BnDescriptors& d = descriptors_for(*a.x);
  const cudnnBatchNormOps_t fused = fused_ops(a.z != nullptr, relu);
  const bool ex = forward_training_ex(h, d, a, fused, saved) ||
                  (fused != kOpsBn && forward_training_ex(h, d, a, kOpsBn, saved));
  // Shapes whose Ex calls cuDNN declined go to the own kernels; plain cuDNN serves the shapes it
  // was never asked about in Ex form.
  saved.used_own = !ex && ex_documented(d.key);
  if (saved.used_own) {
    cuda::batch_norm_training_own(a, stream);  // the add and ReLU are fused in
    saved_forwards().put(std::move(saved));
    return;
  }
  if (!ex) forward_training_plain(h, d, a);
  if (saved.ops == kOpsBn && (a.z != nullptr || relu))
    cuda::batch_norm_add_relu(a.y->raw_data(), a.z != nullptr ? a.z->raw_data() : nullptr, relu,
                              a.y->numel(), a.y->dtype(), stream);
  saved_forwards().put(std::move(saved));
}

void CudaBackend::batch_norm_forward_inference(const BatchNormForward& a) {
  if (a.x->numel() == 0) return;
  const bool relu = a.activation == BatchNormActivation::relu;
  cudaStream_t stream = cuda::stream(a.x->device());
  if (own_kernels(key_of(*a.x))) return cuda::batch_norm_inference_own(a, stream);
  cudnnHandle_t h = cuda::cudnn_handle(a.x->device());
  const BnDescriptors& d = descriptors_for(*a.x);
  REMIX_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      h, kSpatial, &kOne, &kZero, d.data.get(), a.x->raw_data(), d.data.get(), a.y->raw_data(),
      d.stats.get(), a.gamma->raw_data(), a.beta->raw_data(), a.running_mean->raw_data(),
      a.running_var->raw_data(), a.eps));
  // cuDNN's inference call has no fused add or activation.
  if (a.z != nullptr || relu)
    cuda::batch_norm_add_relu(a.y->raw_data(), a.z != nullptr ? a.z->raw_data() : nullptr, relu,
                              a.y->numel(), a.y->dtype(), stream);
}

void CudaBackend::batch_norm_backward(const BatchNormBackward& a) {
  cudaStream_t stream = cuda::stream(a.x->device());
  if (a.x->numel() == 0) {
    zero_fill(*a.dgamma, stream);
    zero_fill(*a.dbeta, stream);
    return;
  }
  const std::optional<SavedForward> saved = saved_forwards().take(*a.save_mean);
  if (own_kernels(key_of(*a.x)) || (saved && saved->used_own))
    return cuda::batch_norm_backward_own(a, stream);
  cudnnHandle_t h = cuda::cudnn_handle(a.x->device());
  BnDescriptors& d = descriptors_for(*a.x);
  const bool relu = a.activation == BatchNormActivation::relu;
  // The Ex backward repeats what its forward fused; a request for something else (a residual
  // gradient the forward did not fuse, say) goes the plain way, which handles every case.
  const bool matches = saved && saved->used_ex &&
                       (saved->ops == kOpsBn || saved->ops == fused_ops(a.dz != nullptr, relu));
  if (!matches) return backward_plain(h, d, a, stream);
  // A declined Ex backward falls to the own kernels, which need only x, y, dy and the statistics.
  if (!backward_ex(h, d, a, *saved, stream)) cuda::batch_norm_backward_own(a, stream);
}

}  // namespace remix
