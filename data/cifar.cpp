// CIFAR-10/100 binary files: checked reading of the fixed-size records, planes (CHW) to NHWC.
#include "data/cifar.h"

#include <cstring>
#include <fstream>

namespace remix::data {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kChannels = 3;
constexpr int64_t kPlane = kSide * kSide;            // 1024 bytes per colour plane
constexpr int64_t kImageBytes = kChannels * kPlane;  // 3072

const std::vector<std::string> kCifar10Names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// Label names as listed in the archive's fine_label_names.txt / coarse_label_names.txt.
const std::vector<std::string> kCifar100FineNames = {
    "apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
    "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
    "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
    "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
    "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
    "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
    "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
    "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
    "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
    "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
    "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
    "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
    "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
    "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
    "table",       "tank",          "telephone", "television", "tiger",        "tractor",
    "train",       "trout",         "tulip",     "turtle",     "wardrobe",     "whale",
    "willow_tree", "wolf",          "woman",     "worm"};

// clang-format off
const std::vector<std::string> kCifar100CoarseNames = {
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
    "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2"};
// clang-format on

struct RecordLayout {
  int64_t label_bytes;   // bytes before the image
  int64_t label_offset;  // which of them is the label used
  const std::vector<std::string>* names;
  const char* description;
};

RecordLayout layout_of(CifarFormat format) {
  switch (format) {
    case CifarFormat::cifar10:
      return {1, 0, &kCifar10Names, "CIFAR-10"};
    case CifarFormat::cifar100_fine:
      return {2, 1, &kCifar100FineNames, "CIFAR-100 fine"};
    case CifarFormat::cifar100_coarse:
      return {2, 0, &kCifar100CoarseNames, "CIFAR-100 coarse"};
  }
  throw_error("unknown CIFAR format");
}

// The whole file, after checking that it holds exactly `records` records of `record_bytes`.
std::vector<uint8_t> read_checked(const fs::path& file, int64_t records, int64_t record_bytes,
                                  const char* description) {
  std::error_code ec;
  REMIX_CHECK(fs::is_regular_file(file, ec), "{} file '{}' is missing", description, file.string());
  const auto size = static_cast<int64_t>(fs::file_size(file, ec));
  REMIX_CHECK(!ec, "cannot read the size of '{}': {}", file.string(), ec.message());
  const int64_t expected = records * record_bytes;
  REMIX_CHECK(size == expected, "{} file '{}' has {} bytes, expected {} ({} records of {} bytes){}",
              description, file.string(), size, expected, records, record_bytes,
              size % record_bytes != 0 ? ": not a whole number of records (truncated?)" : "");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  std::ifstream in(file, std::ios::binary);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  REMIX_CHECK(in.gcount() == size, "could not read all {} bytes of '{}'", size, file.string());
  return bytes;
}

// Copies one record's three planes into an H x W x C image: out[(y*32 + x)*3 + c] = in[c][y][x].
void planes_to_hwc(const uint8_t* planes, uint8_t* out) {
  for (int64_t p = 0; p < kPlane; ++p)
    for (int64_t c = 0; c < kChannels; ++c) out[p * kChannels + c] = planes[c * kPlane + p];
}

fs::path find_folder(const fs::path& dir, const char* archive_folder, const char* probe_file) {
  if (!fs::exists(dir / probe_file) && fs::exists(dir / archive_folder / probe_file))
    return dir / archive_folder;
  return dir;
}

}  // namespace

Dataset read_cifar_files(const std::vector<fs::path>& files, CifarFormat format,
                         int64_t records_per_file) {
  REMIX_CHECK(!files.empty() && records_per_file > 0,
              "read_cifar_files: expected files and a positive record count, got {} files of {}",
              files.size(), records_per_file);
  const RecordLayout layout = layout_of(format);
  const int64_t record_bytes = layout.label_bytes + kImageBytes;
  const auto num_classes = static_cast<int64_t>(layout.names->size());
  const int64_t total = records_per_file * static_cast<int64_t>(files.size());

  Dataset d;
  d.images = Tensor({total, kSide, kSide, kChannels}, DType::u8);
  d.labels = Tensor({total}, DType::i32);
  d.num_classes = num_classes;
  d.class_names = *layout.names;
  uint8_t* images = d.images.data<uint8_t>();
  int32_t* labels = d.labels.data<int32_t>();

  for (size_t f = 0; f < files.size(); ++f) {
    const std::vector<uint8_t> bytes =
        read_checked(files[f], records_per_file, record_bytes, layout.description);
    for (int64_t r = 0; r < records_per_file; ++r) {
      const uint8_t* record = bytes.data() + r * record_bytes;
      const int label = record[layout.label_offset];
      REMIX_CHECK(label < num_classes, "{} file '{}': record {} has label {}, expected 0..{}",
                  layout.description, files[f].string(), r, label, num_classes - 1);
      const int64_t i = static_cast<int64_t>(f) * records_per_file + r;
      labels[i] = label;
      planes_to_hwc(record + layout.label_bytes, images + i * kImageBytes);
    }
  }
  return d;
}

Dataset load_cifar10(const fs::path& dir, Split split) {
  const fs::path folder = find_folder(dir, "cifar-10-batches-bin", "test_batch.bin");
  std::vector<fs::path> files;
  if (split == Split::train)
    for (int i = 1; i <= 5; ++i) files.push_back(folder / fmt::format("data_batch_{}.bin", i));
  else
    files.push_back(folder / "test_batch.bin");
  return read_cifar_files(files, CifarFormat::cifar10, 10000);
}

Dataset load_cifar100(const fs::path& dir, Split split, CifarLabels labels) {
  const fs::path folder = find_folder(dir, "cifar-100-binary", "test.bin");
  const bool train = split == Split::train;
  const CifarFormat format =
      labels == CifarLabels::fine ? CifarFormat::cifar100_fine : CifarFormat::cifar100_coarse;
  return read_cifar_files({folder / (train ? "train.bin" : "test.bin")}, format,
                          train ? 50000 : 10000);
}

}  // namespace remix::data
