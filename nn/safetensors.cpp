// Reading and writing safetensors files (format in safetensors.h).
#include "nn/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/json_guard.h"

namespace remix::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little endian; remix copies it as is");

namespace {

using Json = nlohmann::ordered_json;
constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // a sane header is a few hundred KB at most
constexpr SafetensorsDType kAllDTypes[] = {SafetensorsDType::F32,  SafetensorsDType::F16,
                                           SafetensorsDType::BF16, SafetensorsDType::I32,
                                           SafetensorsDType::U8,   SafetensorsDType::I64};

SafetensorsDType dtype_from_name(const std::string& name, const std::string& where) {
  for (SafetensorsDType t : kAllDTypes)
    if (safetensors_dtype_name(t) == name) return t;
  throw_error(fmt::format("{}: unknown dtype '{}' (remix reads F32, F16, BF16, I32, U8, I64)",
                          where, name));
}

uint64_t checked_uint(const Json& value, const std::string& where, const char* what) {
  REMIX_CHECK(value.is_number_unsigned(), "{}: {} must be non-negative integers, got {}", where,
              what, value.dump());
  return value.get<uint64_t>();
}

// One tensor's header record, validated on its own (packing is checked over all of them).
SafetensorsEntry parse_entry(const std::string& name, const Json& record, const std::string& where,
                             uint64_t& begin, uint64_t& end) {
  REMIX_CHECK(record.is_object(), "{}: expected an object with dtype, shape, data_offsets", where);
  for (const auto& [key, value] : record.items())
    REMIX_CHECK(key == "dtype" || key == "shape" || key == "data_offsets",
                "{}: unexpected field '{}'", where, key);
  REMIX_CHECK(record.contains("dtype") && record["dtype"].is_string(),
              "{}: missing string field 'dtype'", where);
  REMIX_CHECK(record.contains("shape") && record["shape"].is_array(),
              "{}: missing array field 'shape'", where);
  REMIX_CHECK(record.contains("data_offsets") && record["data_offsets"].is_array() &&
                  record["data_offsets"].size() == 2,
              "{}: 'data_offsets' must be [begin, end]", where);
  SafetensorsEntry entry;
  entry.name = name;
  entry.dtype = dtype_from_name(record["dtype"].get<std::string>(), where);
  for (const Json& size : record["shape"]) {
    const uint64_t n = checked_uint(size, where, "shape sizes");
    REMIX_CHECK(n <= (uint64_t{1} << 48), "{}: shape size {} is absurd", where, n);
    entry.shape.push_back(static_cast<int64_t>(n));
  }
  begin = checked_uint(record["data_offsets"][0], where, "data_offsets");
  end = checked_uint(record["data_offsets"][1], where, "data_offsets");
  REMIX_CHECK(begin <= end, "{}: data_offsets [{}, {}] end before they begin", where, begin, end);
  uint64_t expected = safetensors_element_size(entry.dtype);
  for (const Json& size : record["shape"])
    REMIX_CHECK(!__builtin_mul_overflow(expected, size.get<uint64_t>(), &expected),
                "{}: shape {} is too large", where, record["shape"].dump());
  REMIX_CHECK(end - begin == expected,
              "{}: data_offsets [{}, {}] hold {} bytes, but {} {} needs {}", where, begin, end,
              end - begin, safetensors_dtype_name(entry.dtype), to_string(entry.shape), expected);
  return entry;
}

}  // namespace

std::string_view safetensors_dtype_name(SafetensorsDType dtype) {
  switch (dtype) {
    case SafetensorsDType::F32:
      return "F32";
    case SafetensorsDType::F16:
      return "F16";
    case SafetensorsDType::BF16:
      return "BF16";
    case SafetensorsDType::I32:
      return "I32";
    case SafetensorsDType::U8:
      return "U8";
    case SafetensorsDType::I64:
      return "I64";
  }
  return "?";
}

size_t safetensors_element_size(SafetensorsDType dtype) {
  switch (dtype) {
    case SafetensorsDType::F32:
      return 4;
    case SafetensorsDType::F16:
      return 2;
    case SafetensorsDType::BF16:
      return 2;
    case SafetensorsDType::I32:
      return 4;
    case SafetensorsDType::U8:
      return 1;
    case SafetensorsDType::I64:
      return 8;
  }
  return 0;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  for (const auto& entry : tensors)
    if (entry.name == name) return &entry;
  return nullptr;
}

std::vector<uint8_t> encode_safetensors(const SafetensorsFile& file) {
  Json header = Json::object();
  Json metadata = Json::object();
  metadata["format"] = "pt";
  for (const auto& [key, value] : file.metadata) metadata[key] = value;
  header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& entry : file.tensors) {
    REMIX_CHECK(entry.name != "__metadata__" && !header.contains(entry.name),
                "safetensors: tensor name '{}' is reserved or used twice", entry.name);
    const uint64_t size =
        static_cast<uint64_t>(numel(entry.shape)) * safetensors_element_size(entry.dtype);
    REMIX_CHECK(entry.data.size() == size, "safetensors: tensor '{}' has {} bytes, {} {} needs {}",
                entry.name, entry.data.size(), safetensors_dtype_name(entry.dtype),
                to_string(entry.shape), size);
    header[entry.name] = {{"dtype", safetensors_dtype_name(entry.dtype)},
                          {"shape", entry.shape},
                          {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t length = text.size();
  std::vector<uint8_t> bytes(8 + length + offset);
  std::memcpy(bytes.data(), &length, 8);
  std::memcpy(bytes.data() + 8, text.data(), length);
  uint8_t* data = bytes.data() + 8 + length;
  for (const auto& entry : file.tensors) {
    if (!entry.data.empty()) std::memcpy(data, entry.data.data(), entry.data.size());
    data += entry.data.size();
  }
  return bytes;
}

SafetensorsFile decode_safetensors(const std::vector<uint8_t>& bytes, const std::string& origin) {
  REMIX_CHECK(bytes.size() >= 8,
              "{}: truncated safetensors file ({} bytes, the 8-byte header "
              "length alone needs 8)",
              origin, bytes.size());
  uint64_t length = 0;
  std::memcpy(&length, bytes.data(), 8);
  REMIX_CHECK(length <= kMaxHeaderBytes,
              "{}: header length {} is absurd (more than {} bytes): "
              "not a safetensors file?",
              origin, length, kMaxHeaderBytes);
  REMIX_CHECK(8 + length <= bytes.size(),
              "{}: header length {} is larger than the file ({} "
              "bytes): truncated?",
              origin, length, bytes.size());
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, length);
  check_json_nesting(text, origin + ": the header");
  Json header;
  try {
    header = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_error(fmt::format("{}: the header is not valid JSON: {}", origin, e.what()));
  }
  REMIX_CHECK(header.is_object(), "{}: the header must be a JSON object", origin);

  SafetensorsFile file;
  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (const auto& [name, record] : header.items()) {
    if (name == "__metadata__") {
      REMIX_CHECK(record.is_object(), "{}: __metadata__ must be an object of strings", origin);
      for (const auto& [key, value] : record.items()) {
        REMIX_CHECK(value.is_string(), "{}: __metadata__ '{}' must be a string", origin, key);
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    uint64_t begin = 0, end = 0;
    file.tensors.push_back(
        parse_entry(name, record, fmt::format("{}: tensor '{}'", origin, name), begin, end));
    spans.push_back({begin, end, file.tensors.size() - 1});
  }

  // The data must be exactly the tensors back to back: sort by start and require no gap, no
  // overlap, and nothing past (or left at) the end.
  const uint64_t data_size = bytes.size() - 8 - length;
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  for (const Span& s : spans) {
    const std::string& name = file.tensors[s.index].name;
    REMIX_CHECK(s.end <= data_size,
                "{}: tensor '{}': data_offsets [{}, {}] out of range (the "
                "data has {} bytes): truncated?",
                origin, name, s.begin, s.end, data_size);
    REMIX_CHECK(s.begin >= expected_begin,
                "{}: tensor '{}': data_offsets [{}, {}] overlap the "
                "previous tensor (which ends at {})",
                origin, name, s.begin, s.end, expected_begin);
    REMIX_CHECK(s.begin == expected_begin,
                "{}: tensor '{}': data_offsets [{}, {}] leave a gap "
                "after byte {}: tensors must be packed",
                origin, name, s.begin, s.end, expected_begin);
    const auto* first = bytes.data() + 8 + length + s.begin;
    file.tensors[s.index].data.assign(first, first + (s.end - s.begin));
    expected_begin = s.end;
  }
  REMIX_CHECK(expected_begin == data_size,
              "{}: {} bytes after the last tensor: the data must "
              "end with the last tensor",
              origin, data_size - expected_begin);
  return file;
}

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REMIX_CHECK(fd >= 0, "cannot create {}: {}", tmp, std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      std::remove(tmp.c_str());
      throw_error(fmt::format("cannot write {}: {}", tmp, reason));
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    std::remove(tmp.c_str());
    throw_error(fmt::format("cannot flush {} to disk: {}", tmp, std::strerror(errno)));
  }
  REMIX_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename {} to {}: {}", tmp, path,
              std::strerror(errno));
}

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
  write_file_atomically(path, encode_safetensors(file));
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REMIX_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  REMIX_CHECK(!in.bad(), "cannot read {}", path);
  return decode_safetensors(bytes, path);
}

// --------------------------------------------------------------------------- conversions

SafetensorsDType safetensors_dtype_of(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return SafetensorsDType::F32;
    case DType::f16:
      return SafetensorsDType::F16;
    case DType::bf16:
      return SafetensorsDType::BF16;
    case DType::i32:
      return SafetensorsDType::I32;
    case DType::u8:
      return SafetensorsDType::U8;
  }
  throw_error("safetensors: unknown remix dtype");
}

SafetensorsEntry entry_from_tensor(const std::string& name, const Tensor& tensor) {
  SafetensorsEntry entry;
  entry.name = name;
  entry.dtype = safetensors_dtype_of(tensor.dtype());
  entry.shape = tensor.shape();
  entry.data.resize(tensor.nbytes());
  copy_tensor_to_host(tensor, entry.data.data(), entry.data.size());
  return entry;
}

Tensor tensor_from_entry(const SafetensorsEntry& entry, const std::string& origin, Device device) {
  DType dtype = DType::f32;
  switch (entry.dtype) {
    case SafetensorsDType::F32:
      dtype = DType::f32;
      break;
    case SafetensorsDType::F16:
      dtype = DType::f16;
      break;
    case SafetensorsDType::BF16:
      dtype = DType::bf16;
      break;
    case SafetensorsDType::I32:
      dtype = DType::i32;
      break;
    case SafetensorsDType::U8:
      dtype = DType::u8;
      break;
    case SafetensorsDType::I64:
      throw_error(fmt::format("{}: tensor '{}' is I64, which remix tensors cannot hold", origin,
                              entry.name));
  }
  Tensor t(entry.shape, dtype, device);
  copy_host_to_tensor(entry.data.data(), entry.data.size(), t);
  return t;
}

SafetensorsEntry i64_scalar_entry(const std::string& name, int64_t value) {
  SafetensorsEntry entry{name, SafetensorsDType::I64, {}, std::vector<uint8_t>(8)};
  std::memcpy(entry.data.data(), &value, 8);
  return entry;
}

int64_t i64_scalar_value(const SafetensorsEntry& entry, const std::string& origin) {
  REMIX_CHECK(entry.dtype == SafetensorsDType::I64 && entry.data.size() == 8,
              "{}: tensor '{}' should be one I64 value, got {} {}", origin, entry.name,
              safetensors_dtype_name(entry.dtype), to_string(entry.shape));
  int64_t value = 0;
  std::memcpy(&value, entry.data.data(), 8);
  return value;
}

}  // namespace remix::nn
