// Fuzz target: the image folder loader (data/image_folder.h). The first input byte picks the
// options (bit 0: strict, bit 1: resize to 8x8, bits 2-3: one to four class folders); the rest,
// cut at kPartSeparator, is up to eight image files dealt to the classes in turn. A dataset it
// accepts holds one image of a common size and one valid label per decodable file.
#include "data/image_folder.h"
#include "tests/fuzz/fuzz_support.h"

using namespace remix;
using namespace remix::data;

namespace {

void check_dataset(const Dataset& d, const ImageFolderOptions& options, size_t files) {
  fuzz::require(d.size() >= 1 && d.size() <= static_cast<int64_t>(files),
                "at least one and at most one image per file");
  fuzz::require(d.images.dim() == 4 && d.images.size(3) == 3, "images are N x H x W x 3");
  if (options.resize_height > 0)
    fuzz::require(d.images.size(1) == options.resize_height &&
                      d.images.size(2) == options.resize_width,
                  "resized images have the asked size");
  fuzz::require(d.labels.numel() == d.size(), "one label per image");
  for (int64_t i = 0; i < d.size(); ++i) {
    const int32_t label = d.labels.data<int32_t>()[i];
    fuzz::require(label >= 0 && label < d.num_classes, "labels lie in 0..classes-1");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ImageFolderOptions options;
  options.strict = (data[0] & 1) != 0;
  options.resize_height = options.resize_width = (data[0] & 2) != 0 ? 8 : 0;
  options.threads = 1;  // one thread: a finding reproduces from its input alone
  const size_t classes = 1 + ((data[0] >> 2) & 3);
  const std::filesystem::path root = fuzz::fresh_scratch_dir() / "train";
  const std::vector<std::string_view> parts = fuzz::split_parts(data + 1, size - 1, 8);
  for (size_t i = 0; i < parts.size(); ++i)
    fuzz::write_bytes(root / ("class" + std::to_string(i % classes)) /
                          ("image" + std::to_string(i)),
                      parts[i]);
  fuzz::allow_remix_errors([&] { check_dataset(load_image_folder(root, options), options, parts.size()); });
  return 0;
}
