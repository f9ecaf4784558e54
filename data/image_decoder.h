// Decoding JPEG, PNG and BMP bytes into RGB pixels: the only door to stb_image, whose
// implementation is compiled in data/stb_image.cpp alone, with every other format left out.
//
// Nothing here touches the file system: callers read a file into memory themselves. Bad bytes
// never throw or crash: the functions report failure with a reason, and the caller decides
// whether to skip the file or raise an error naming it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remix::data {

// Images wider or taller than this are refused before any pixel is decoded (stb_image's own
// STBI_MAX_DIMENSIONS is set to the same value): a small file claiming a huge size cannot make
// the decoder allocate gigabytes.
inline constexpr int kMaxImageDimension = 8192;

struct ImageHeader {
  int width = 0, height = 0;
  int channels = 0;  // as stored: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
};

struct DecodedImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height x width x 3, rows top to bottom
};

// Reads the header only. Returns false with `error` set when the bytes are not a JPEG, PNG or
// BMP image stb_image accepts, or when a side is 0 or larger than kMaxImageDimension.
bool read_image_header(const std::vector<uint8_t>& bytes, ImageHeader& header, std::string& error);

// Checks the header, then decodes to 3 channels (grey is repeated, alpha is dropped).
// Returns false with `error` set on any failure, including truncated or corrupt data.
bool decode_rgb(const std::vector<uint8_t>& bytes, DecodedImage& image, std::string& error);

}  // namespace remix::data
