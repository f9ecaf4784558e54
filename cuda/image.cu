// The input pipeline on the GPU, NHWC: random crop with zero padding and horizontal flip on u8
// images, then normalisation to f32/f16/bf16. Per-image parameters (offsets, flags) come from
// device tensors; one thread per output byte/value, channels innermost.
#include "cuda/cuda_backend.h"
#include "cuda/kernel_utils.cuh"

namespace remix {

using namespace remix::cuda;

namespace {

// out[n, i, j, c] = in[n, i + dy - pad, j + dx - pad, c], or 0 outside the image, where
// (dy, dx) = offsets[n] is the crop's corner in the image padded by `pad` on each side.
__global__ void crop_pad_kernel(const uint8_t* in, const int32_t* offsets, int64_t pad, int64_t N,
                                int64_t H, int64_t W, int64_t C, uint8_t* out) {
  const int64_t total = N * H * W * C;
  for (int64_t idx = global_thread(); idx < total; idx += grid_stride()) {
    const int64_t c = idx % C, j = idx / C % W, i = idx / C / W % H, n = idx / C / W / H;
    const int64_t row = i + offsets[2 * n] - pad, col = j + offsets[2 * n + 1] - pad;
    const bool inside = row >= 0 && row < H && col >= 0 && col < W;
    out[idx] = inside ? in[((n * H + row) * W + col) * C + c] : uint8_t{0};
  }
}

// out[n, i, j, c] = in[n, i, W - 1 - j, c] where flags[n] != 0, else in[n, i, j, c].
__global__ void hflip_kernel(const uint8_t* in, const uint8_t* flags, int64_t N, int64_t H,
                             int64_t W, int64_t C, uint8_t* out) {
  const int64_t total = N * H * W * C;
  for (int64_t idx = global_thread(); idx < total; idx += grid_stride()) {
    const int64_t c = idx % C, j = idx / C % W, i = idx / C / W % H, n = idx / C / W / H;
    const int64_t col = flags[n] != 0 ? W - 1 - j : j;
    out[idx] = in[((n * H + i) * W + col) * C + c];
  }
}

// Per-channel constants travel in the kernel's parameters: no device buffer, no upload.
constexpr int kMaxNormalizeChannels = 64;
struct ChannelStats {
  float mean[kMaxNormalizeChannels];
  float std[kMaxNormalizeChannels];
};

// out = (in / 255 - mean[c]) / std[c].
template <class T>
__global__ void normalize_kernel(const uint8_t* in, ChannelStats stats, int64_t total, int64_t C,
                                 T* out) {
  for (int64_t idx = global_thread(); idx < total; idx += grid_stride()) {
    const int64_t c = idx % C;
    const float v = static_cast<float>(in[idx]) / 255.f;
    out[idx] = from_f32<T>((v - stats.mean[c]) / stats.std[c]);
  }
}

}  // namespace

void CudaBackend::crop_pad_u8(const Tensor& in, const Tensor& offsets, int64_t pad, Tensor& out) {
  const Shape& s = in.shape();
  crop_pad_kernel<<<blocks_for(in.numel()), kThreads, 0, stream(in.device())>>>(
      static_cast<const uint8_t*>(in.raw_data()), static_cast<const int32_t*>(offsets.raw_data()),
      pad, s[0], s[1], s[2], s[3], static_cast<uint8_t*>(out.raw_data()));
  REMIX_CUDA_CHECK_LAUNCH();
}

void CudaBackend::hflip_u8(const Tensor& in, const Tensor& flags, Tensor& out) {
  const Shape& s = in.shape();
  hflip_kernel<<<blocks_for(in.numel()), kThreads, 0, stream(in.device())>>>(
      static_cast<const uint8_t*>(in.raw_data()), static_cast<const uint8_t*>(flags.raw_data()),
      s[0], s[1], s[2], s[3], static_cast<uint8_t*>(out.raw_data()));
  REMIX_CUDA_CHECK_LAUNCH();
}

void CudaBackend::normalize_u8(const Tensor& in, const std::vector<float>& mean,
                               const std::vector<float>& std, Tensor& out) {
  const int64_t C = in.shape().back();
  if (C > kMaxNormalizeChannels)
    throw_error("normalize_u8 on CUDA handles at most " + std::to_string(kMaxNormalizeChannels) +
                " channels, got " + std::to_string(C));
  ChannelStats stats{};
  for (int64_t c = 0; c < C; ++c) {
    stats.mean[c] = mean[c];
    stats.std[c] = std[c];
  }
  const cudaStream_t s = stream(in.device());
  dispatch_floating(out.dtype(), "normalize_u8 output", [&](auto tag) {
    using T = typename decltype(tag)::type;
    normalize_kernel<<<blocks_for(in.numel()), kThreads, 0, s>>>(
        static_cast<const uint8_t*>(in.raw_data()), stats, in.numel(), C,
        static_cast<T*>(out.raw_data()));
    REMIX_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace remix
