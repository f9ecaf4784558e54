// The image-folder dataset on fixtures the test writes itself: PNG, BMP and JPEG files in class
// folders, grey and RGBA images, and the bad cases (a truncated JPEG, a text file named .jpg, a
// GIF, an empty class folder, a missing folder, mixed sizes, a header claiming a huge image).
#include "data/image_folder.h"

#include <gtest/gtest.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <fstream>

#include "tests/data/data_test_support.h"

namespace remix::data {
namespace {

using remix::testing::TempDir;
using remix::testing::throws_error_with;
using remix::testing::write_file;
namespace fs = std::filesystem;

// A w x h image with `channels` channels whose every value is different (mod 256).
std::vector<uint8_t> pattern(int w, int h, int channels, int seed) {
  std::vector<uint8_t> p(static_cast<size_t>(w * h * channels));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(seed * 40 + i * 7);
  return p;
}

void write_png(const fs::path& path, int w, int h, int channels, const std::vector<uint8_t>& p) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, channels, p.data(), w * channels));
}

void write_bmp(const fs::path& path, int w, int h, const std::vector<uint8_t>& p) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(stbi_write_bmp(path.c_str(), w, h, 3, p.data()));
}

// A smooth JPEG (JPEG is lossy: smooth content keeps the error small).
void write_jpeg(const fs::path& path, int w, int h, uint8_t level) {
  std::vector<uint8_t> p(static_cast<size_t>(w * h * 3), level);
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(stbi_write_jpg(path.c_str(), w, h, 3, p.data(), 95));
}

std::vector<uint8_t> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A valid 1x1 GIF89a (header, logical screen, 2-colour table, image descriptor, LZW data).
const std::vector<uint8_t> kGif = {'G', 'I', 'F', '8', '9', 'a', 1,   0,    1,    0, 0x80, 0,
                                   0,   0,   0,   0,   255, 255, 255, 0x2c, 0,    0, 0,    0,
                                   1,   0,   1,   0,   0,   2,   2,   0x44, 0x01, 0, 0x3b};

std::vector<uint8_t> image(const Dataset& d, int64_t i) {
  const std::vector<uint8_t> all = d.images.to_vector<uint8_t>();
  const int64_t bytes = d.images.numel() / d.size();
  return {all.begin() + i * bytes, all.begin() + (i + 1) * bytes};
}

TEST(ImageFolder, LoadsPngBmpAndJpegWithClassesAndFilesInSortedOrder) {
  TempDir dir;
  const fs::path root = dir.path();
  write_png(root / "zebra" / "b.png", 4, 3, 3, pattern(4, 3, 3, 1));
  write_bmp(root / "zebra" / "a.bmp", 4, 3, pattern(4, 3, 3, 2));
  write_jpeg(root / "apple" / "only.jpg", 4, 3, 200);
  write_png(root / "mango" / "c.png", 4, 3, 3, pattern(4, 3, 3, 3));
  write_file(root / ".hidden" / "x.png", std::string("not a class"));
  const Dataset d = load_image_folder(root);
  EXPECT_EQ(d.class_names, std::vector<std::string>({"apple", "mango", "zebra"}));
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.images.shape(), Shape({4, 3, 4, 3}));
  EXPECT_EQ(d.labels.to_vector<int32_t>(), std::vector<int32_t>({0, 1, 2, 2}));
  for (uint8_t v : image(d, 0)) EXPECT_NEAR(v, 200, 3);
  EXPECT_EQ(image(d, 1), pattern(4, 3, 3, 3));  // PNG and BMP are lossless
  EXPECT_EQ(image(d, 2), pattern(4, 3, 3, 2));  // a.bmp before b.png
  EXPECT_EQ(image(d, 3), pattern(4, 3, 3, 1));
}

TEST(ImageFolder, ConvertsGreyAndRgbaToRgb) {
  TempDir dir;
  write_png(dir.path() / "a" / "grey.png", 2, 2, 1, {10, 20, 30, 40});
  write_png(dir.path() / "a" / "rgba.png", 2, 2, 4, pattern(2, 2, 4, 5));
  const Dataset d = load_image_folder(dir.path());
  EXPECT_EQ(image(d, 0), std::vector<uint8_t>({10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40}));
  const std::vector<uint8_t> rgba = pattern(2, 2, 4, 5);
  std::vector<uint8_t> rgb;
  for (size_t i = 0; i < rgba.size(); i += 4) rgb.insert(rgb.end(), &rgba[i], &rgba[i + 3]);
  EXPECT_EQ(image(d, 1), rgb);
}

// Class "a" holds two good images and three bad files; class "b" one good image.
fs::path folder_with_bad_files(const TempDir& dir) {
  const fs::path root = dir.path();
  write_png(root / "a" / "1.png", 8, 8, 3, pattern(8, 8, 3, 1));
  write_png(root / "a" / "5.png", 8, 8, 3, pattern(8, 8, 3, 2));
  write_png(root / "b" / "1.png", 8, 8, 3, pattern(8, 8, 3, 3));
  std::vector<uint8_t> noisy(8 * 8 * 3);
  for (size_t i = 0; i < noisy.size(); ++i) noisy[i] = static_cast<uint8_t>(i * 97 % 251);
  stbi_write_jpg((root / "a" / "2.jpg").c_str(), 8, 8, 3, noisy.data(), 90);
  std::vector<uint8_t> jpeg = read_all(root / "a" / "2.jpg");
  jpeg.resize(jpeg.size() * 3 / 4);  // cut inside the compressed data
  write_file(root / "a" / "2.jpg", jpeg);
  write_file(root / "a" / "3.jpg", std::string("this is a text file, not a JPEG\n"));
  write_file(root / "a" / "4.gif", kGif);
  return root;
}

TEST(ImageFolder, SkipsUnreadableFilesWithOneWarningGivingTheCount) {
  TempDir dir;
  const fs::path root = folder_with_bad_files(dir);
  ::testing::internal::CaptureStderr();
  const Dataset d = load_image_folder(root);
  const std::string warning = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.labels.to_vector<int32_t>(), std::vector<int32_t>({0, 0, 1}));
  EXPECT_EQ(image(d, 1), pattern(8, 8, 3, 2));
  EXPECT_EQ(std::count(warning.begin(), warning.end(), '\n'), 1) << warning;
  EXPECT_NE(warning.find("skipped 3 unreadable"), std::string::npos) << warning;
  for (const char* name : {"2.jpg", "3.jpg", "4.gif"})
    EXPECT_NE(warning.find(name), std::string::npos) << warning;
}

TEST(ImageFolder, StrictModeRejectsTheFirstUnreadableFileByName) {
  TempDir dir;
  const fs::path root = folder_with_bad_files(dir);
  ImageFolderOptions strict;
  strict.strict = true;
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(root, strict); },
                                {(root / "a" / "2.jpg").string()}));
  fs::remove(root / "a" / "2.jpg");
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(root, strict); },
                                {(root / "a" / "3.jpg").string(), "not a JPEG, PNG or BMP"}));
  fs::remove(root / "a" / "3.jpg");
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(root, strict); },
                                {(root / "a" / "4.gif").string(), "GIF images are not supported"}));
  fs::remove(root / "a" / "4.gif");
  EXPECT_EQ(load_image_folder(root, strict).size(), 3);
}

TEST(ImageFolder, RefusesAnImageLargerThanTheDimensionCap) {
  TempDir dir;
  write_png(dir.path() / "a" / "ok.png", 2, 1, 1, {1, 2});
  write_png(dir.path() / "a" / "wide.png", 8193, 1, 1, std::vector<uint8_t>(8193, 7));
  ImageFolderOptions strict;
  strict.strict = true;
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(dir.path(), strict); },
                                {(dir.path() / "a" / "wide.png").string()}));
}

TEST(ImageFolder, RejectsEmptyClassFoldersMissingFoldersAndClasslessRoots) {
  TempDir dir;
  write_png(dir.path() / "a" / "1.png", 2, 2, 3, pattern(2, 2, 3, 0));
  fs::create_directories(dir.path() / "b");
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(dir.path()); },
                                {(dir.path() / "b").string(), "empty"}));
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(dir.path() / "nope"); },
                                {(dir.path() / "nope").string(), "does not exist"}));
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(dir.path() / "a"); },
                                {(dir.path() / "a").string(), "no class sub-folders"}));
  write_file(dir.path() / "b" / "bad.jpg", std::string("text"));
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(dir.path()); },
                                {(dir.path() / "b").string(), "no readable image"}));
  ::testing::internal::GetCapturedStderr();
}

TEST(ImageFolder, RejectsMixedSizesUnlessAResizeIsAsked) {
  TempDir dir;
  write_png(dir.path() / "a" / "1.png", 4, 4, 3, std::vector<uint8_t>(4 * 4 * 3, 90));
  write_png(dir.path() / "b" / "2.png", 6, 2, 3, std::vector<uint8_t>(6 * 2 * 3, 30));
  EXPECT_TRUE(throws_error_with([&] { load_image_folder(dir.path()); },
                                {(dir.path() / "b" / "2.png").string(), "6x2", "expected 4x4"}));
  ImageFolderOptions resize;
  resize.resize_height = 3;
  resize.resize_width = 5;
  const Dataset d = load_image_folder(dir.path(), resize);
  EXPECT_EQ(d.images.shape(), Shape({2, 3, 5, 3}));
  EXPECT_EQ(image(d, 0), std::vector<uint8_t>(3 * 5 * 3, 90));  // uniform stays uniform
  EXPECT_EQ(image(d, 1), std::vector<uint8_t>(3 * 5 * 3, 30));
}

TEST(ImageFolder, GivesTheSameDatasetWhateverTheThreadCount) {
  TempDir dir;
  for (int i = 0; i < 24; ++i)
    write_png(dir.path() / (i % 2 ? "odd" : "even") / (std::to_string(i) + ".png"), 5, 5, 3,
              pattern(5, 5, 3, i));
  ImageFolderOptions one, three;
  one.threads = 1;
  three.threads = 3;
  const Dataset a = load_image_folder(dir.path(), one), b = load_image_folder(dir.path(), three);
  EXPECT_EQ(a.images.to_vector<uint8_t>(), b.images.to_vector<uint8_t>());
  EXPECT_EQ(a.labels.to_vector<int32_t>(), b.labels.to_vector<int32_t>());
}

}  // namespace
}  // namespace remix::data
