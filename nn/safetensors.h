// The safetensors file format (as the Hugging Face `safetensors` library writes and checks it):
//
//   bytes 0..7   N, the header length, unsigned 64-bit little endian
//   bytes 8..    the header: N bytes of JSON, padded with spaces so that N % 8 == 0:
//                {"__metadata__": {"format": "pt", <string>: <string>, ...},
//                 "<name>": {"dtype": "F32", "shape": [64, 3, 3, 3], "data_offsets": [b, e]}, ...}
//   then         the data: every tensor's raw little-endian bytes, back to back in header order,
//                no gaps; offsets count from the first data byte.
//
// This file reads and writes that format over plain byte buffers (SafetensorsEntry), so it also
// carries dtypes remix tensors do not have (I64, used by PyTorch for num_batches_tracked).
// Writing is atomic: <path>.tmp is written, flushed and fsync'ed, then renamed over <path>, so a
// killed save leaves the previous file intact. Reading validates everything and throws a
// remix::Error naming the file and the offending key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/tensor.h"

namespace remix::nn {

enum class SafetensorsDType { F32, F16, BF16, I32, U8, I64 };

struct SafetensorsEntry {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::F32;
  Shape shape;
  std::vector<uint8_t> data;  // numel(shape) * element size bytes, little endian
};

struct SafetensorsFile {
  std::vector<SafetensorsEntry> tensors;        // in header (and data) order
  std::map<std::string, std::string> metadata;  // "format" is "pt" when written

  // The entry called `name`, or nullptr.
  const SafetensorsEntry* find(const std::string& name) const;
};

std::string_view safetensors_dtype_name(SafetensorsDType dtype);
size_t safetensors_element_size(SafetensorsDType dtype);
SafetensorsDType safetensors_dtype_of(DType dtype);  // the file dtype of a remix dtype

// The whole file as bytes, and back. `origin` names the source in error messages.
std::vector<uint8_t> encode_safetensors(const SafetensorsFile& file);
SafetensorsFile decode_safetensors(const std::vector<uint8_t>& bytes, const std::string& origin);

void write_safetensors(const std::string& path, const SafetensorsFile& file);
SafetensorsFile read_safetensors(const std::string& path);
// Writes `bytes` to <path>.tmp, flushes, fsyncs and renames it to `path`.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

// Conversions between entries and remix tensors (copied through the host).
SafetensorsEntry entry_from_tensor(const std::string& name, const Tensor& tensor);
// Throws for I64 entries (remix tensors have no 64-bit integers). `origin` names the file.
Tensor tensor_from_entry(const SafetensorsEntry& entry, const std::string& origin,
                         Device device = Device::cpu());
SafetensorsEntry i64_scalar_entry(const std::string& name, int64_t value);
// The value of a one-element I64 entry; throws naming `origin` otherwise.
int64_t i64_scalar_value(const SafetensorsEntry& entry, const std::string& origin);

}  // namespace remix::nn
