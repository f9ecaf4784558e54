// One kernel launch over many tensors (the optimizer updates of every parameter, the unscaling of
// every gradient): a model has hundreds of parameter tensors, and a launch per tensor would cost
// more than the arithmetic of most of them.
//
// The host describes the tensors as a table of entries (pointers and sizes) and cuts them into
// chunks of kChunk elements; block b of the launch works on chunk b, so large and small tensors
// share the GPU evenly. The table lives in device memory. It is uploaded only when it differs from
// the one the previous launch of the same site used: in a training loop the parameters, their
// state and (with the caching allocator) their gradients keep their addresses, so after the first
// step nothing is uploaded, and a step captured in a CUDA graph after that first step replays
// with the table already in place.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "cuda/kernel_utils.cuh"
#include "tensor/tensor.h"

namespace remix::cuda {

constexpr int64_t kChunk = 16384;  // elements per block

struct Chunk {
  int32_t entry;  // which tensor
  int64_t begin;  // first element of the chunk in it
};

// Where the entries and chunks of a table are on the device.
template <class Entry>
struct DeviceTable {
  const Entry* entries = nullptr;
  const Chunk* chunks = nullptr;
  int64_t entry_count = 0, chunk_count = 0;
};

// The chunks of tensors with `sizes` elements, in order.
inline std::vector<Chunk> chunks_of(const std::vector<int64_t>& sizes) {
  std::vector<Chunk> chunks;
  for (size_t e = 0; e < sizes.size(); ++e)
    for (int64_t begin = 0; begin < sizes[e]; begin += kChunk)
      chunks.push_back({static_cast<int32_t>(e), begin});
  return chunks;
}

// The device copy of one call site's table, re-uploaded only when the bytes change.
class TableCache {
 public:
  template <class Entry>
  DeviceTable<Entry> upload(const std::vector<Entry>& entries, const std::vector<Chunk>& chunks,
                            Device device) {
    const size_t entry_bytes = entries.size() * sizeof(Entry);
    const size_t chunk_offset = (entry_bytes + 15) / 16 * 16;  // chunks aligned for int64
    std::vector<unsigned char> bytes(chunk_offset + chunks.size() * sizeof(Chunk), 0);
    std::memcpy(bytes.data(), entries.data(), entry_bytes);
    std::memcpy(bytes.data() + chunk_offset, chunks.data(), chunks.size() * sizeof(Chunk));
    if (bytes != host_ || !device_.defined() || device_.device() != device) {
      device_ = Tensor({static_cast<int64_t>(bytes.size())}, DType::u8, device);
      copy_host_to_tensor(bytes.data(), bytes.size(), device_);
      host_ = std::move(bytes);
    }
    const auto* base = static_cast<const unsigned char*>(device_.raw_data());
    return {reinterpret_cast<const Entry*>(base),
            reinterpret_cast<const Chunk*>(base + chunk_offset),
            static_cast<int64_t>(entries.size()), static_cast<int64_t>(chunks.size())};
  }

 private:
  std::vector<unsigned char> host_;
  Tensor device_;
};

// The elements [begin, end) of its tensor that this block's chunk covers.
template <class Entry>
__device__ __forceinline__ const Entry& chunk_entry(const DeviceTable<Entry>& t, int64_t& begin,
                                                    int64_t& end) {
  const Chunk c = t.chunks[blockIdx.x];
  const Entry& e = t.entries[c.entry];
  begin = c.begin;
  end = c.begin + kChunk < e.n ? c.begin + kChunk : e.n;
  return e;
}

}  // namespace remix::cuda
