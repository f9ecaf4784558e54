// Loading the datasets named by --data (see data_source.h).
#include "apps/data_source.h"

#include "data/cifar.h"
#include "data/image_folder.h"
#include "data/synthetic.h"
#include "tensor/check.h"

namespace remix::app {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDataForms = "synthetic, cifar10:DIR, cifar100:DIR or folder:DIR";

void check_directory(const fs::path& dir, const std::string& what, const std::string& layout) {
  REMIX_CHECK(fs::exists(dir), "--data: {} {} does not exist; expected {}", what, dir.string(),
              layout);
  REMIX_CHECK(fs::is_directory(dir), "--data: {} {} is not a directory; expected {}", what,
              dir.string(), layout);
}

void check_data_directories(const DataSpec& spec) {
  if (spec.kind == "synthetic") return;
  if (spec.kind == "folder") {
    const std::string layout =
        fmt::format("{0}/train/<class>/<image> and {0}/test/<class>/<image>", spec.dir.string());
    check_directory(spec.dir, "the image folder", layout);
    check_directory(spec.dir / "train", "the training folder", layout);
    check_directory(spec.dir / "test", "the test folder", layout);
    return;
  }
  const std::string layout = spec.kind == "cifar10"
                                 ? "the CIFAR-10 binary files (data_batch_1.bin .. test_batch.bin)"
                                 : "the CIFAR-100 binary files (train.bin, test.bin)";
  check_directory(spec.dir, "the " + spec.kind + " directory", "a directory holding " + layout);
}

data::Dataset load_split(const TrainConfig& config, const DataSpec& spec, data::Split split) {
  if (spec.kind == "synthetic") {
    data::SyntheticOptions options;
    options.train_images = config.synthetic_train;
    options.test_images = config.synthetic_test;
    return data::make_synthetic(split, options);
  }
  if (spec.kind == "cifar10") return data::load_cifar10(spec.dir, split);
  if (spec.kind == "cifar100") return data::load_cifar100(spec.dir, split);
  const char* name = split == data::Split::train ? "train" : "test";
  return data::load_image_folder(spec.dir / name);
}

}  // namespace

DataSpec parse_data_spec(const std::string& text) {
  if (text == "synthetic") return {"synthetic", {}};
  const size_t colon = text.find(':');
  REMIX_CHECK(colon != std::string::npos, "--data '{}': expected {}", text, kDataForms);
  DataSpec spec{text.substr(0, colon), fs::path(text.substr(colon + 1))};
  REMIX_CHECK(spec.kind == "cifar10" || spec.kind == "cifar100" || spec.kind == "folder",
              "--data '{}': unknown kind '{}'; expected {}", text, spec.kind, kDataForms);
  REMIX_CHECK(!spec.dir.empty(), "--data '{}': the directory is missing; expected {}", text,
              kDataForms);
  return spec;
}

TrainTestData load_data(const TrainConfig& config) {
  const DataSpec spec = parse_data_spec(config.data);
  check_data_directories(spec);
  TrainTestData data{load_split(config, spec, data::Split::train),
                     load_split(config, spec, data::Split::test)};
  REMIX_CHECK(data.train.class_names == data.test.class_names,
              "--data {}: the training and test sets have different classes ({} and {})",
              config.data, fmt::join(data.train.class_names, ","),
              fmt::join(data.test.class_names, ","));
  const Shape& a = data.train.images.shape();
  const Shape& b = data.test.images.shape();
  REMIX_CHECK(a[1] == b[1] && a[2] == b[2] && a[3] == b[3],
              "--data {}: training images are {}x{}x{} but test images {}x{}x{}", config.data, a[1],
              a[2], a[3], b[1], b[2], b[3]);
  return data;
}

int64_t class_count(const DataSpec& spec) {
  if (spec.kind == "cifar100") return 100;
  if (spec.kind != "folder") return 10;
  check_data_directories(spec);
  int64_t classes = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(spec.dir / "train"))
    classes += entry.is_directory() && !entry.path().filename().string().starts_with(".");
  REMIX_CHECK(classes > 0, "--data: {} has no class folders", (spec.dir / "train").string());
  return classes;
}

data::Dataset load_test_data(const TrainConfig& config) {
  const DataSpec spec = parse_data_spec(config.data);
  check_data_directories(spec);
  return load_split(config, spec, data::Split::test);
}

}  // namespace remix::app
