// Fused optimizer steps on the GPU: one kernel launch updates every parameter (the multi-tensor
// table of cuda/multi_tensor.cuh), in place, then a second one advances every parameter's count.
//
// The learning rate, the count of applied updates (step) and the optional skip flag are read from
// device memory inside the kernel, so a step captured in a CUDA graph follows a schedule that
// changes lr, and a step whose fp16 gradients overflowed is dropped (counts included), without the
// host ever waiting for the GPU. The counts are advanced by the second kernel because inside the
// update kernel every block must still read the count the update started with.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"
#include "cuda/multi_tensor.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// Plain-old-data copies of the options.
struct SgdParams {
  float momentum, dampening, weight_decay;
  bool nesterov;
};

struct AdamWParams {
  double beta1, beta2;  // raised to the power t in double, as the CPU does
  float eps, weight_decay;
};

// One parameter in the device table.
struct SgdEntry {
  float* param;
  const float* grad;
  float* buffer;  // nullptr without momentum
  float* step;
  int64_t n;
};

struct AdamWEntry {
  float* param;
  const float* grad;
  float* exp_avg;
  float* exp_avg_sq;
  float* step;
  int64_t n;
};

// True when a skip flag is given and set.
__device__ __forceinline__ bool skipped(const float* skip_if) {
  return skip_if != nullptr && *skip_if != 0.f;
}

// step += 1 for every entry, unless the update was skipped; launched after the update kernel.
template <class Entry>
__global__ void count_updates_kernel(DeviceTable<Entry> t, const float* skip_if) {
  if (skipped(skip_if)) return;
  for (int64_t i = global_thread(); i < t.entry_count; i += grid_stride())
    *t.entries[i].step += 1.f;
}

// torch.optim.SGD: g = grad + wd * p; buf = momentum * buf + (1 - dampening) * g (buf = g on the
// first update, step == 0); g = nesterov ? g + momentum * buf : buf; p -= lr * g.
__global__ void sgd_kernel(DeviceTable<SgdEntry> t, const float* lr, const float* skip_if,
                           SgdParams o) {
  if (skipped(skip_if)) return;
  int64_t begin = 0, end = 0;
  const SgdEntry& e = chunk_entry(t, begin, end);
  const float rate = *lr;
  const bool first_step = *e.step == 0.f;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    float g = e.grad[i] + o.weight_decay * e.param[i];
    if (e.buffer != nullptr) {
      const float b = first_step ? g : o.momentum * e.buffer[i] + (1.f - o.dampening) * g;
      e.buffer[i] = b;
      g = o.nesterov ? g + o.momentum * b : b;
    }
    e.param[i] -= rate * g;
  }
}

// torch.optim.AdamW: p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), with t = step + 1.
__global__ void adamw_kernel(DeviceTable<AdamWEntry> t, const float* lr, const float* skip_if,
                             AdamWParams o) {
  if (skipped(skip_if)) return;
  int64_t begin = 0, end = 0;
  const AdamWEntry& e = chunk_entry(t, begin, end);
  const float rate = *lr;
  const double step = static_cast<double>(*e.step) + 1.0;
  const float step_size = static_cast<float>(rate / (1.0 - pow(o.beta1, step)));
  const float bias_correction2_sqrt = static_cast<float>(sqrt(1.0 - pow(o.beta2, step)));
  const float b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const float g = e.grad[i];
    const float m = b1 * e.exp_avg[i] + (1.f - b1) * g;
    const float v = b2 * e.exp_avg_sq[i] + (1.f - b2) * g * g;
    e.exp_avg[i] = m;
    e.exp_avg_sq[i] = v;
    const float p = e.param[i] * (1.f - rate * o.weight_decay);
    e.param[i] = p - step_size * m / (sqrtf(v) / bias_correction2_sqrt + o.eps);
  }
}

const float* optional_data(const Tensor* t) {
  return t == nullptr ? nullptr : static_cast<const float*>(t->raw_data());
}

float* f32(Tensor* t) {
  return static_cast<float*>(t->raw_data());
}

// The update kernel over every chunk, then the count kernel over every entry.
template <class Entry, class Kernel, class Params>
void launch(const std::vector<Entry>& entries, TableCache& cache, Kernel kernel, const Tensor& lr,
            const Tensor* skip_if, const Params& o) {
  std::vector<int64_t> sizes;
  for (const Entry& e : entries) sizes.push_back(e.n);
  const std::vector<Chunk> chunks = chunks_of(sizes);
  const DeviceTable<Entry> table = cache.upload(entries, chunks, lr.device());
  const cudaStream_t s = stream(lr.device());
  const float* rate = static_cast<const float*>(lr.raw_data());
  if (table.chunk_count > 0) {
    kernel<<<static_cast<unsigned>(table.chunk_count), kThreads, 0, s>>>(table, rate,
                                                                         optional_data(skip_if), o);
    REMIX_CUDA_CHECK_LAUNCH();
  }
  count_updates_kernel<<<blocks_for(table.entry_count), kThreads, 0, s>>>(table,
                                                                          optional_data(skip_if));
  REMIX_CUDA_CHECK_LAUNCH();
}

}  // namespace

void CudaBackend::sgd_update(const std::vector<SgdSlot>& slots, const Tensor& lr,
                             const SgdOptions& opt, const Tensor* skip_if) {
  static auto* cache = new TableCache();  // never destroyed: it holds a device tensor
  std::vector<SgdEntry> entries;
  for (const SgdSlot& slot : slots)
    entries.push_back({f32(slot.param), static_cast<const float*>(slot.grad->raw_data()),
                       opt.momentum != 0.0 ? f32(slot.momentum_buffer) : nullptr, f32(slot.step),
                       slot.param->numel()});
  const SgdParams o{static_cast<float>(opt.momentum), static_cast<float>(opt.dampening),
                    static_cast<float>(opt.weight_decay), opt.nesterov};
  launch(entries, *cache, sgd_kernel, lr, skip_if, o);
}

void CudaBackend::adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr,
                               const AdamWOptions& opt, const Tensor* skip_if) {
  static auto* cache = new TableCache();  // never destroyed: it holds a device tensor
  std::vector<AdamWEntry> entries;
  for (const AdamWSlot& slot : slots)
    entries.push_back({f32(slot.param), static_cast<const float*>(slot.grad->raw_data()),
                       f32(slot.exp_avg), f32(slot.exp_avg_sq), f32(slot.step),
                       slot.param->numel()});
  const AdamWParams o{opt.beta1, opt.beta2, static_cast<float>(opt.eps),
                      static_cast<float>(opt.weight_decay)};
  launch(entries, *cache, adamw_kernel, lr, skip_if, o);
}

}  // namespace remix
