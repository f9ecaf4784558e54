// CIFAR-10/100 binary files: the test writes small files with known pixels and labels, reads
// them back, and checks the malformed cases (truncated, wrong size, bad label, missing file).
#include "data/cifar.h"

#include <gtest/gtest.h>

#include "tests/data/data_test_support.h"

namespace remix::data {
namespace {

using remix::testing::TempDir;
using remix::testing::throws_error_with;
using remix::testing::write_file;
namespace fs = std::filesystem;

// A distinct value for every (record, channel, row, column), so that any mix-up shows.
uint8_t pixel(int64_t record, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>(record * 31 + c * 101 + y * 7 + x * 3);
}

// Records as the CIFAR files store them: label bytes, then the R, G and B planes.
std::vector<uint8_t> records(const std::vector<std::vector<uint8_t>>& labels, int64_t first) {
  std::vector<uint8_t> bytes;
  for (size_t r = 0; r < labels.size(); ++r) {
    bytes.insert(bytes.end(), labels[r].begin(), labels[r].end());
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) bytes.push_back(pixel(first + r, c, y, x));
  }
  return bytes;
}

// Every pixel of image i equals pixel(i, ...), read as NHWC.
void expect_pixels(const Dataset& d) {
  const std::vector<uint8_t> v = d.images.to_vector<uint8_t>();
  for (int64_t i = 0; i < d.size(); ++i)
    for (int64_t y = 0; y < 32; ++y)
      for (int64_t x = 0; x < 32; ++x)
        for (int64_t c = 0; c < 3; ++c)
          ASSERT_EQ(v[((i * 32 + y) * 32 + x) * 3 + c], pixel(i, c, y, x))
              << "image " << i << " y " << y << " x " << x << " c " << c;
}

TEST(Cifar10, ReadsLabelsAndConvertsPlanesToNhwc) {
  TempDir dir;
  write_file(dir.path() / "a.bin", records({{3}, {0}, {9}}, 0));
  write_file(dir.path() / "b.bin", records({{5}, {1}, {7}}, 3));
  const Dataset d =
      read_cifar_files({dir.path() / "a.bin", dir.path() / "b.bin"}, CifarFormat::cifar10, 3);
  EXPECT_EQ(d.images.shape(), Shape({6, 32, 32, 3}));
  EXPECT_EQ(d.images.dtype(), DType::u8);
  EXPECT_EQ(d.labels.to_vector<int32_t>(), std::vector<int32_t>({3, 0, 9, 5, 1, 7}));
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.class_names.front(), "airplane");
  EXPECT_EQ(d.class_names[3], "cat");
  EXPECT_EQ(d.class_names.back(), "truck");
  expect_pixels(d);
}

TEST(Cifar100, ReadsFineLabelsByDefaultAndCoarseOnRequest) {
  TempDir dir;
  const fs::path file = dir.path() / "train.bin";
  write_file(file, records({{19, 99}, {0, 4}, {7, 42}}, 0));
  const Dataset fine = read_cifar_files({file}, CifarFormat::cifar100_fine, 3);
  EXPECT_EQ(fine.labels.to_vector<int32_t>(), std::vector<int32_t>({99, 4, 42}));
  EXPECT_EQ(fine.num_classes, 100);
  EXPECT_EQ(fine.class_names[99], "worm");
  expect_pixels(fine);
  const Dataset coarse = read_cifar_files({file}, CifarFormat::cifar100_coarse, 3);
  EXPECT_EQ(coarse.labels.to_vector<int32_t>(), std::vector<int32_t>({19, 0, 7}));
  EXPECT_EQ(coarse.num_classes, 20);
  EXPECT_EQ(coarse.class_names[19], "vehicles_2");
  expect_pixels(coarse);
}

TEST(Cifar10, LoadsTheOfficialTestFileFromTheArchiveFolder) {
  TempDir dir;
  std::vector<uint8_t> bytes(10000 * 3073, 0);  // full size: 10,000 zero records...
  const std::vector<uint8_t> first = records({{8}}, 0);
  std::copy(first.begin(), first.end(), bytes.begin());  // ...but a known first one
  bytes[9999 * 3073] = 2;
  write_file(dir.path() / "cifar-10-batches-bin" / "test_batch.bin", bytes);
  const Dataset d = load_cifar10(dir.path(), Split::test);
  ASSERT_EQ(d.size(), 10000);
  const std::vector<int32_t> labels = d.labels.to_vector<int32_t>();
  EXPECT_EQ(labels[0], 8);
  EXPECT_EQ(labels[1], 0);
  EXPECT_EQ(labels[9999], 2);
  EXPECT_EQ(d.images.to_vector<uint8_t>()[(5 * 32 + 6) * 3 + 2], pixel(0, 2, 5, 6));
}

TEST(Cifar10, RejectsATruncatedFileNamingItAndTheExpectedSize) {
  TempDir dir;
  std::vector<uint8_t> bytes = records({{1}, {2}, {3}}, 0);
  bytes.resize(bytes.size() - 100);
  const fs::path file = dir.path() / "data_batch_1.bin";
  write_file(file, bytes);
  EXPECT_TRUE(throws_error_with([&] { read_cifar_files({file}, CifarFormat::cifar10, 3); },
                                {file.string(), "9119 bytes", "expected 9219", "truncated"}));
}

TEST(Cifar10, RejectsAFileWithTheWrongNumberOfRecords) {
  TempDir dir;
  write_file(dir.path() / "test_batch.bin", records({{1}, {2}}, 0));
  EXPECT_TRUE(throws_error_with([&] { load_cifar10(dir.path(), Split::test); },
                                {"test_batch.bin", "expected 30730000", "10000 records"}));
}

TEST(Cifar10, RejectsALabelOutOfRange) {
  TempDir dir;
  const fs::path file = dir.path() / "x.bin";
  write_file(file, records({{1}, {10}}, 0));
  EXPECT_TRUE(throws_error_with([&] { read_cifar_files({file}, CifarFormat::cifar10, 2); },
                                {file.string(), "record 1", "label 10", "expected 0..9"}));
}

TEST(Cifar100, RejectsFineAndCoarseLabelsOutOfRange) {
  TempDir dir;
  const fs::path fine = dir.path() / "fine.bin", coarse = dir.path() / "coarse.bin";
  write_file(fine, records({{3, 100}}, 0));
  write_file(coarse, records({{20, 3}}, 0));
  EXPECT_TRUE(throws_error_with([&] { read_cifar_files({fine}, CifarFormat::cifar100_fine, 1); },
                                {fine.string(), "label 100", "expected 0..99"}));
  EXPECT_TRUE(
      throws_error_with([&] { read_cifar_files({coarse}, CifarFormat::cifar100_coarse, 1); },
                        {coarse.string(), "label 20", "expected 0..19"}));
  // Each file is valid for the other kind of label.
  EXPECT_NO_THROW(read_cifar_files({fine}, CifarFormat::cifar100_coarse, 1));
  EXPECT_NO_THROW(read_cifar_files({coarse}, CifarFormat::cifar100_fine, 1));
}

TEST(Cifar, NamesAMissingFile) {
  TempDir dir;
  EXPECT_TRUE(throws_error_with([&] { load_cifar10(dir.path(), Split::train); },
                                {(dir.path() / "data_batch_1.bin").string(), "missing"}));
  EXPECT_TRUE(throws_error_with([&] { load_cifar100(dir.path(), Split::test); },
                                {(dir.path() / "test.bin").string(), "missing"}));
  EXPECT_TRUE(throws_error_with([&] { load_cifar100(dir.path(), Split::train); },
                                {(dir.path() / "train.bin").string(), "missing"}));
}

}  // namespace
}  // namespace remix::data
