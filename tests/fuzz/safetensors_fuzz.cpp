// Fuzz target: the safetensors reader (nn/safetensors.h) on arbitrary bytes. A file it accepts
// must convert to tensors entry by entry, and encoding it again must decode to the same entries.
#include "nn/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace remix;
using namespace remix::nn;

void check_entries(const SafetensorsFile& file) {
  for (const SafetensorsEntry& entry : file.tensors) {
    fuzz::require(entry.data.size() == static_cast<size_t>(numel(entry.shape)) *
                                           safetensors_element_size(entry.dtype),
                  "an accepted entry holds exactly numel * element size bytes");
    fuzz::allow_remix_errors([&] {  // I64 entries of other than one element are refused here
      if (entry.dtype == SafetensorsDType::I64) {
        i64_scalar_value(entry, "fuzz input");
      } else {
        const Tensor tensor = tensor_from_entry(entry, "fuzz input");
        fuzz::require(tensor.shape() == entry.shape, "a tensor keeps its entry's shape");
      }
    });
  }
}

void check_round_trip(const SafetensorsFile& file) {
  const SafetensorsFile again = decode_safetensors(encode_safetensors(file), "re-encoded input");
  fuzz::require(again.tensors.size() == file.tensors.size(), "re-encoding keeps every entry");
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    const SafetensorsEntry &a = file.tensors[i], &b = again.tensors[i];
    fuzz::require(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.data == b.data,
                  "re-encoding keeps names, dtypes, shapes and bytes");
  }
  std::map<std::string, std::string> metadata = file.metadata;
  metadata.try_emplace("format", "pt");  // written when the metadata does not say, for PyTorch
  fuzz::require(again.metadata == metadata, "re-encoding keeps the metadata and adds format pt");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  fuzz::allow_remix_errors([&] {
    const SafetensorsFile file = decode_safetensors(bytes, "fuzz input");
    check_entries(file);
    check_round_trip(file);
  });
  return 0;
}
