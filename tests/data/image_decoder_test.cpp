// The stb_image wrapper on bytes in memory: a valid image decodes, and hostile or broken bytes
// are refused with a reason instead of being decoded (GIF, text, a JPEG whose Huffman table
// would overflow stb_image 2.27, a header claiming more than kMaxImageDimension).
#include "data/image_decoder.h"

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>  // the implementation is compiled in image_folder_test.cpp

namespace remix::data {
namespace {

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

std::vector<uint8_t> jpeg_bytes() {
  std::vector<uint8_t> pixels(16 * 8 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 5);
  std::vector<uint8_t> out;
  EXPECT_TRUE(stbi_write_jpg_to_func(append, &out, 16, 8, 3, pixels.data(), 90));
  return out;
}

TEST(ImageDecoder, DecodesAJpegToRgbOfTheHeaderSize) {
  const std::vector<uint8_t> bytes = jpeg_bytes();
  ImageHeader header;
  std::string error;
  ASSERT_TRUE(read_image_header(bytes, header, error)) << error;
  EXPECT_EQ(header.width, 16);
  EXPECT_EQ(header.height, 8);
  DecodedImage image;
  ASSERT_TRUE(decode_rgb(bytes, image, error)) << error;
  EXPECT_EQ(image.width, 16);
  EXPECT_EQ(image.height, 8);
  EXPECT_EQ(image.rgb.size(), 16u * 8 * 3);
}

TEST(ImageDecoder, RefusesAJpegHuffmanTableWithMoreThan256Symbols) {
  std::vector<uint8_t> bytes = jpeg_bytes();
  size_t dht = 2;
  while (dht + 1 < bytes.size() && !(bytes[dht] == 0xFF && bytes[dht + 1] == 0xC4)) ++dht;
  ASSERT_LT(dht + 21, bytes.size()) << "no DHT segment in the encoded JPEG";
  for (size_t i = 0; i < 16; ++i) bytes[dht + 5 + i] = 255;  // 16 x 255 = 4080 symbols claimed
  DecodedImage image;
  std::string error;
  EXPECT_FALSE(decode_rgb(bytes, image, error));
  EXPECT_NE(error.find("Huffman table"), std::string::npos) << error;
}

TEST(ImageDecoder, RefusesGifTextEmptyAndTruncatedBytes) {
  const std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
  const std::string text = "plain text";
  std::vector<uint8_t> truncated = jpeg_bytes();
  truncated.resize(truncated.size() / 2);
  DecodedImage image;
  std::string error;
  EXPECT_FALSE(decode_rgb(gif, image, error));
  EXPECT_NE(error.find("GIF"), std::string::npos) << error;
  EXPECT_FALSE(decode_rgb(std::vector<uint8_t>(text.begin(), text.end()), image, error));
  EXPECT_NE(error.find("not a JPEG, PNG or BMP"), std::string::npos) << error;
  EXPECT_FALSE(decode_rgb({}, image, error));
  EXPECT_FALSE(decode_rgb(truncated, image, error));
}

TEST(ImageDecoder, RefusesAHeaderBeyondTheDimensionCap) {
  std::vector<uint8_t> row(kMaxImageDimension + 1, 9), png;
  ASSERT_TRUE(stbi_write_png_to_func(append, &png, kMaxImageDimension + 1, 1, 1, row.data(), 0));
  ImageHeader header;
  std::string error;
  EXPECT_FALSE(read_image_header(png, header, error));
  std::vector<uint8_t> ok;
  ASSERT_TRUE(stbi_write_png_to_func(append, &ok, kMaxImageDimension, 1, 1, row.data(), 0));
  EXPECT_TRUE(read_image_header(ok, header, error)) << error;
  EXPECT_EQ(header.width, kMaxImageDimension);
}

}  // namespace
}  // namespace remix::data
