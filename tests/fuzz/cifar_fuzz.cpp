// Fuzz target: the CIFAR binary reader (data/cifar.h). The first input byte picks the format
// (CIFAR-10, CIFAR-100 fine or coarse) and the records per file (1..3); the rest, cut at
// kPartSeparator, is up to three files. A dataset it accepts has one image and one label in
// 0..classes-1 per record.
#include "data/cifar.h"
#include "tests/fuzz/fuzz_support.h"

using namespace remix;
using namespace remix::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto format = static_cast<CifarFormat>(data[0] % 3);
  const int64_t records = 1 + (data[0] / 3) % 3;
  const std::filesystem::path dir = fuzz::fresh_scratch_dir();
  std::vector<std::filesystem::path> files;
  for (std::string_view part : fuzz::split_parts(data + 1, size - 1, 3)) {
    files.push_back(dir / ("batch_" + std::to_string(files.size()) + ".bin"));
    fuzz::write_bytes(files.back(), part);
  }
  fuzz::allow_remix_errors([&] {
    const Dataset d = read_cifar_files(files, format, records);
    const int64_t total = records * static_cast<int64_t>(files.size());
    fuzz::require(d.images.shape() == Shape({total, 32, 32, 3}) && d.labels.numel() == total,
                  "one 32x32x3 image and one label per record");
    for (int64_t i = 0; i < total; ++i) {
      const int32_t label = d.labels.data<int32_t>()[i];
      fuzz::require(label >= 0 && label < d.num_classes, "labels lie in 0..classes-1");
    }
  });
  return 0;
}
