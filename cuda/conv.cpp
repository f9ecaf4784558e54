// 2-D convolution on the GPU with cuDNN: forward, backward data (dx) and backward filter (dw).
//
// NHWC activations and KRSC weights (cuDNN's NHWC filter layout), cross-correlation as in every
// framework, f32/f16/bf16 data with f32 accumulation. Math: f16 and bf16 run on tensor cores
// (CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION); f32 may use TF32 tensor cores (CUDNN_DEFAULT_MATH),
// as PyTorch's default torch.backends.cudnn.allow_tf32 = True does for convolutions.
//
// Algorithms are chosen once per shape, dtype and direction and then reused: the first call of a
// new shape times every algorithm that fits a workspace cap with cudnnFind*AlgorithmEx (as
// PyTorch's torch.backends.cudnn.benchmark = True does) and keeps the fastest. That first call
// synchronises with the device, so it must not happen inside a captured CUDA graph; later calls
// only look the choice up. Because the choice is made by timing, two runs may pick different
// algorithms and differ by rounding. Descriptors are cached with the choice.
#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cudnn_descriptors.h"

namespace remix {
namespace {

using cuda::ConvolutionDescriptor;
using cuda::FilterDescriptor;
using cuda::TensorDescriptor;

// The most scratch memory an algorithm may use: a share of the memory free when the shape is
// first seen, never less than a floor. Faster algorithms that need more lose to the fastest one
// within the cap.
constexpr size_t kWorkspaceFloor = size_t{128} << 20;
constexpr size_t kWorkspaceShareDivisor = 4;  // a quarter of the free memory

enum Direction { kForward = 0, kBackwardData = 1, kBackwardFilter = 2 };
constexpr const char* kDirectionNames[] = {"forward", "backward data", "backward filter"};

struct ConvKey {
  int device = 0;
  DType dtype = DType::f32;
  int64_t N, H, W, C, K, R, S, stride_h, stride_w, pad_h, pad_w;
  auto operator<=>(const ConvKey&) const = default;
};

// The algorithm of one direction, with the convolution descriptor it runs with: its math type
// is the one the algorithm was timed with.
struct ConvAlgorithm {
  ConvolutionDescriptor conv;
  int algo = 0;  // a cudnnConvolutionFwdAlgo_t, BwdDataAlgo_t or BwdFilterAlgo_t
  size_t workspace = 0;
};

struct ConvPlan {
  Conv2dGeometry g;
  DType dtype = DType::f32;
  Device device;
  TensorDescriptor x, y;
  FilterDescriptor w;
  std::array<std::unique_ptr<ConvAlgorithm>, 3> chosen;  // by Direction, found at first use
};

// Plans by shape, with the mutex that also guards the algorithm search (once per shape). Emptied
// by cuda::release_caches() at exit, before cuDNN's teardown (cuda/runtime.h).
using PlanCache = std::map<ConvKey, std::unique_ptr<ConvPlan>>;
cuda::ReleasedCache<PlanCache>& plan_cache() { return cuda::released_cache<PlanCache>(); }

int to_int(int64_t v, const char* what) {
  REMIX_CHECK(v >= 0 && v <= INT_MAX, "conv2d on CUDA: {} = {} does not fit cuDNN's int", what, v);
  return static_cast<int>(v);
}

ConvPlan& plan_for(const Conv2dGeometry& g, DType dtype, Device device) {
  const ConvKey key{device.index, dtype, g.N,        g.H,        g.W,     g.C,    g.K,
                    g.R,          g.S,   g.stride_h, g.stride_w, g.pad_h, g.pad_w};
  PlanCache& plans = plan_cache().map;
  std::lock_guard lock(plan_cache().mutex);
  std::unique_ptr<ConvPlan>& plan = plans[key];
  if (!plan) {
    auto created = std::make_unique<ConvPlan>();
    created->g = g;
    created->dtype = dtype;
    created->device = device;
    cuda::set_nhwc(created->x, dtype, g.N, g.H, g.W, g.C);
    cuda::set_nhwc(created->y, dtype, g.N, g.P, g.Q, g.K);
    cuda::set_krsc(created->w, dtype, g.K, g.R, g.S, g.C);
    plan = std::move(created);
  }
  return *plan;
}

void set_convolution(const ConvolutionDescriptor& conv, const Conv2dGeometry& g, DType dtype) {
  REMIX_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
      conv.get(), to_int(g.pad_h, "pad_h"), to_int(g.pad_w, "pad_w"),
      to_int(g.stride_h, "stride_h"), to_int(g.stride_w, "stride_w"), 1, 1, CUDNN_CROSS_CORRELATION,
      CUDNN_DATA_FLOAT));
  REMIX_CUDNN_CHECK(cudnnSetConvolutionMathType(
      conv.get(),
      dtype == DType::f32 ? CUDNN_DEFAULT_MATH : CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION));
}

// max(floor, free / 4), where free is what the driver has free plus what remix's allocator holds
// without a tensor in it (reserved - allocated: cached blocks, which a workspace can reuse).
size_t workspace_cap(Device device) {
  size_t free_bytes = 0, total_bytes = 0;
  REMIX_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const cuda::MemoryStats held = cuda::memory_stats(device);
  const size_t free_in_cache = held.reserved - std::min(held.reserved, held.allocated);
  return std::max(kWorkspaceFloor, (free_bytes + free_in_cache) / kWorkspaceShareDivisor);
}

// Scratch memory from the caching allocator. When the tensor dies the block goes back to the
// cache; later work on the stream that reuses it runs after the cuDNN call that uses it here.
Tensor workspace(size_t bytes, Device device) {
  return Tensor({static_cast<int64_t>(bytes)}, DType::u8, device);
}

// The largest workspace among the algorithms cuDNN's heuristics consider, within the cap: the
// scratch memory the timing run is given.
template <class Perf>
size_t workspace_for_search(const std::vector<Perf>& candidates, int count, size_t cap) {
  size_t bytes = 0;
  for (int i = 0; i < count; ++i)
    if (candidates[i].status == CUDNN_STATUS_SUCCESS && candidates[i].memory <= cap)
      bytes = std::max(bytes, candidates[i].memory);
  return bytes;
}

// The fastest timed algorithm that ran and fits the cap (cudnnFind* sorts by time).
template <class Perf>
const Perf& fastest(const std::vector<Perf>& timed, int count, const ConvPlan& plan,
                    Direction direction, size_t cap) {
  for (int i = 0; i < count; ++i)
    if (timed[i].status == CUDNN_STATUS_SUCCESS && timed[i].memory <= cap) return timed[i];
  const Conv2dGeometry& g = plan.g;
  throw_error(fmt::format(
      "cuDNN has no {} convolution algorithm for input {}x{}x{}x{} ({}), weight {}x{}x{}x{}, "
      "stride {}x{}, padding {}x{} within a {} MiB workspace",
      kDirectionNames[direction], g.N, g.H, g.W, g.C, dtype_name(plan.dtype), g.K, g.R, g.S, g.C,
      g.stride_h, g.stride_w, g.pad_h, g.pad_w, cap >> 20));
}

// ------------------------------------------------------------------ the search, per direction

void find_forward(cudnnHandle_t h, const ConvPlan& p, ConvAlgorithm& a, const Tensor& x,
                  const Tensor& w, Tensor& y) {
  int max_count = 0, count = 0;
  REMIX_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
  std::vector<cudnnConvolutionFwdAlgoPerf_t> results(static_cast<size_t>(max_count));
  REMIX_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(
      h, p.x.get(), p.w.get(), a.conv.get(), p.y.get(), max_count, &count, results.data()));
  const size_t cap = workspace_cap(p.device);
  const size_t bytes = workspace_for_search(results, count, cap);
  Tensor scratch = workspace(bytes, x.device());
  REMIX_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
      h, p.x.get(), x.raw_data(), p.w.get(), w.raw_data(), a.conv.get(), p.y.get(), y.raw_data(),
      max_count, &count, results.data(), scratch.raw_data(), bytes));
  const cudnnConvolutionFwdAlgoPerf_t& best = fastest(results, count, p, kForward, cap);
  REMIX_CUDNN_CHECK(cudnnSetConvolutionMathType(a.conv.get(), best.mathType));
  a.algo = static_cast<int>(best.algo);
  REMIX_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, p.x.get(), p.w.get(), a.conv.get(),
                                                            p.y.get(), best.algo, &a.workspace));
}

void find_backward_data(cudnnHandle_t h, const ConvPlan& p, ConvAlgorithm& a, const Tensor& dy,
                        const Tensor& w, Tensor& dx) {
  int max_count = 0, count = 0;
  REMIX_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> results(static_cast<size_t>(max_count));
  REMIX_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
      h, p.w.get(), p.y.get(), a.conv.get(), p.x.get(), max_count, &count, results.data()));
  const size_t cap = workspace_cap(p.device);
  const size_t bytes = workspace_for_search(results, count, cap);
  Tensor scratch = workspace(bytes, dy.device());
  REMIX_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
      h, p.w.get(), w.raw_data(), p.y.get(), dy.raw_data(), a.conv.get(), p.x.get(), dx.raw_data(),
      max_count, &count, results.data(), scratch.raw_data(), bytes));
  const cudnnConvolutionBwdDataAlgoPerf_t& best = fastest(results, count, p, kBackwardData, cap);
  REMIX_CUDNN_CHECK(cudnnSetConvolutionMathType(a.conv.get(), best.mathType));
  a.algo = static_cast<int>(best.algo);
  REMIX_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
      h, p.w.get(), p.y.get(), a.conv.get(), p.x.get(), best.algo, &a.workspace));
}

void find_backward_filter(cudnnHandle_t h, const ConvPlan& p, ConvAlgorithm& a, const Tensor& dy,
                          const Tensor& x, Tensor& dw) {
  int max_count = 0, count = 0;
  REMIX_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> results(static_cast<size_t>(max_count));
  REMIX_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
      h, p.x.get(), p.y.get(), a.conv.get(), p.w.get(), max_count, &count, results.data()));
  const size_t cap = workspace_cap(p.device);
  const size_t bytes = workspace_for_search(results, count, cap);
  Tensor scratch = workspace(bytes, dy.device());
  REMIX_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
      h, p.x.get(), x.raw_data(), p.y.get(), dy.raw_data(), a.conv.get(), p.w.get(), dw.raw_data(),
      max_count, &count, results.data(), scratch.raw_data(), bytes));
  const cudnnConvolutionBwdFilterAlgoPerf_t& best =
      fastest(results, count, p, kBackwardFilter, cap);
  REMIX_CUDNN_CHECK(cudnnSetConvolutionMathType(a.conv.get(), best.mathType));
  a.algo = static_cast<int>(best.algo);
  REMIX_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
      h, p.x.get(), p.y.get(), a.conv.get(), p.w.get(), best.algo, &a.workspace));
}

// The algorithm of `direction` for this plan, searched with `find` the first time.
template <class Find>
const ConvAlgorithm& algorithm(ConvPlan& plan, Direction direction, Find find) {
  std::lock_guard lock(plan_cache().mutex);
  std::unique_ptr<ConvAlgorithm>& slot = plan.chosen[direction];
  if (!slot) {
    auto chosen = std::make_unique<ConvAlgorithm>();
    set_convolution(chosen->conv, plan.g, plan.dtype);
    find(*chosen);
    slot = std::move(chosen);
  }
  return *slot;
}

// An empty input (N, H, W, C or K of 0) gives an all-zero output; cuDNN rejects such shapes.
bool is_empty(const Conv2dGeometry& g) {
  return g.N == 0 || g.H == 0 || g.W == 0 || g.C == 0 || g.K == 0;
}

void zero_fill(Tensor& t) {
  if (t.nbytes() == 0) return;  // all-zero bits are 0.0 in f32, f16 and bf16
  REMIX_CUDA_CHECK(cudaMemsetAsync(t.raw_data(), 0, t.nbytes(), cuda::stream(t.device())));
}

const float kOne = 1.0f, kZero = 0.0f;  // out = 1 * result + 0 * out

}  // namespace

void CudaBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Conv2dGeometry& g,
                                 Tensor& y) {
  if (is_empty(g)) return zero_fill(y);
  cudnnHandle_t h = cuda::cudnn_handle(x.device());
  ConvPlan& p = plan_for(g, x.dtype(), x.device());
  const ConvAlgorithm& a =
      algorithm(p, kForward, [&](ConvAlgorithm& chosen) { find_forward(h, p, chosen, x, w, y); });
  Tensor scratch = workspace(a.workspace, x.device());
  REMIX_CUDNN_CHECK(
      cudnnConvolutionForward(h, &kOne, p.x.get(), x.raw_data(), p.w.get(), w.raw_data(),
                              a.conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(a.algo),
                              scratch.raw_data(), a.workspace, &kZero, p.y.get(), y.raw_data()));
}

void CudaBackend::conv2d_backward_data(const Tensor& dy, const Tensor& w, const Conv2dGeometry& g,
                                       Tensor& dx) {
  if (is_empty(g)) return zero_fill(dx);
  cudnnHandle_t h = cuda::cudnn_handle(dy.device());
  ConvPlan& p = plan_for(g, dy.dtype(), dy.device());
  const ConvAlgorithm& a = algorithm(p, kBackwardData, [&](ConvAlgorithm& chosen) {
    find_backward_data(h, p, chosen, dy, w, dx);
  });
  Tensor scratch = workspace(a.workspace, dy.device());
  REMIX_CUDNN_CHECK(cudnnConvolutionBackwardData(
      h, &kOne, p.w.get(), w.raw_data(), p.y.get(), dy.raw_data(), a.conv.get(),
      static_cast<cudnnConvolutionBwdDataAlgo_t>(a.algo), scratch.raw_data(), a.workspace, &kZero,
      p.x.get(), dx.raw_data()));
}

void CudaBackend::conv2d_backward_filter(const Tensor& dy, const Tensor& x, const Conv2dGeometry& g,
                                         Tensor& dw) {
  if (is_empty(g)) return zero_fill(dw);
  cudnnHandle_t h = cuda::cudnn_handle(dy.device());
  ConvPlan& p = plan_for(g, dy.dtype(), dy.device());
  const ConvAlgorithm& a = algorithm(p, kBackwardFilter, [&](ConvAlgorithm& chosen) {
    find_backward_filter(h, p, chosen, dy, x, dw);
  });
  Tensor scratch = workspace(a.workspace, dy.device());
  REMIX_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
      h, &kOne, p.x.get(), x.raw_data(), p.y.get(), dy.raw_data(), a.conv.get(),
      static_cast<cudnnConvolutionBwdFilterAlgo_t>(a.algo), scratch.raw_data(), a.workspace, &kZero,
      p.w.get(), dw.raw_data()));
}

}  // namespace remix
