// The one file that compiles stb_image (v2.27 as packaged by Debian), and the small wrappers of
// data/image_decoder.h around it.
//
// Only the JPEG, PNG and BMP decoders are compiled: the packaged version has published
// vulnerabilities, most of them in its GIF decoder, and remix needs no other format. Image sides
// are capped at kMaxImageDimension, the header is checked before decoding, JPEG Huffman tables
// are checked for a known overflow of this version, and stb never opens files itself
// (STBI_NO_STDIO): it only sees bytes that the caller read.
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "data/image_decoder.h"

#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 8192
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image.h>
#pragma GCC diagnostic pop

namespace remix::data {

static_assert(STBI_MAX_DIMENSIONS == kMaxImageDimension);

namespace {

bool starts_with(const std::vector<uint8_t>& bytes, const char* magic) {
  const size_t n = std::strlen(magic);
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

// Why stb_image refused the bytes, in words a user can act on.
std::string refusal_reason(const std::vector<uint8_t>& bytes) {
  if (starts_with(bytes, "GIF8")) return "GIF images are not supported (only JPEG, PNG and BMP)";
  const char* reason = stbi_failure_reason();  // thread-local in stb_image 2.27
  if (reason != nullptr && std::strcmp(reason, "unknown image type") == 0)
    return "not a JPEG, PNG or BMP image";
  return fmt::format("corrupt or unsupported image ({})", reason ? reason : "unknown reason");
}

// stb_image 2.27 trusts the symbol counts of a JPEG Huffman table (a DHT segment): when they sum
// to more than 256 it writes past its 256-entry symbol array, as nothing bounds the sum. So
// every marker segment of a JPEG is walked before stb sees the file, and a DHT segment with a
// table of more than 256 symbols, or with tables overrunning the segment, refuses the file.
// Segments are skipped by their length, and entropy-coded data (after SOS) is scanned byte by byte
// for the next marker (0xFF followed by anything but 0x00, a fill 0xFF or a restart marker).
bool jpeg_huffman_tables_fit(const std::vector<uint8_t>& b) {
  const size_t n = b.size();
  size_t pos = 2;  // after the SOI marker
  while (pos + 1 < n) {
    const uint8_t marker = b[pos + 1];
    const bool standalone = marker == 0x00 || marker == 0xFF || marker == 0x01 ||
                            (marker >= 0xD0 && marker <= 0xD8);  // no length follows
    if (b[pos] != 0xFF || standalone) {
      ++pos;  // entropy-coded data, stuffing or a restart marker
      continue;
    }
    if (marker == 0xD9) return true;  // end of image
    if (pos + 3 >= n) return true;    // truncated: stb reports it
    const size_t length = static_cast<size_t>(b[pos + 2]) << 8 | b[pos + 3];
    const size_t end = std::min(pos + 2 + length, n);
    if (marker == 0xC4)  // DHT: one or more (class/id byte, 16 counts, symbols) tables
      for (size_t t = pos + 4; t < end;) {
        if (t + 17 > end) return false;
        size_t symbols = 0;
        for (size_t i = 1; i <= 16; ++i) symbols += b[t + i];
        if (symbols > 256) return false;
        t += 17 + symbols;
      }
    pos = std::max(end, pos + 2);
  }
  return true;
}

}  // namespace

bool read_image_header(const std::vector<uint8_t>& bytes, ImageHeader& header, std::string& error) {
  if (bytes.empty() || bytes.size() > static_cast<size_t>(INT_MAX)) {
    error = bytes.empty() ? "empty file" : "file too large to be an image";
    return false;
  }
  if (starts_with(bytes, "GIF8")) {  // refused here, before stb sees a single byte of it
    error = refusal_reason(bytes);
    return false;
  }
  if (starts_with(bytes, "\xFF\xD8") && !jpeg_huffman_tables_fit(bytes)) {
    error = "corrupt JPEG (a Huffman table holds more than 256 symbols or overruns its segment)";
    return false;
  }
  const int length = static_cast<int>(bytes.size());
  if (!stbi_info_from_memory(bytes.data(), length, &header.width, &header.height,
                             &header.channels)) {
    error = refusal_reason(bytes);
    return false;
  }
  if (header.width < 1 || header.height < 1 || header.width > kMaxImageDimension ||
      header.height > kMaxImageDimension || header.channels < 1 || header.channels > 4) {
    error = fmt::format("image header claims {}x{} with {} channels, expected sides in 1..{}",
                        header.width, header.height, header.channels, kMaxImageDimension);
    return false;
  }
  return true;
}

bool decode_rgb(const std::vector<uint8_t>& bytes, DecodedImage& image, std::string& error) {
  ImageHeader header;
  if (!read_image_header(bytes, header, error)) return false;
  int width = 0, height = 0, channels_in_file = 0;
  uint8_t* pixels = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width,
                                          &height, &channels_in_file, 3);
  if (pixels == nullptr) {
    error = refusal_reason(bytes);
    return false;
  }
  if (width != header.width || height != header.height) {  // the header lied: do not trust it
    stbi_image_free(pixels);
    error = fmt::format("decoded size {}x{} differs from the header's {}x{}", width, height,
                        header.width, header.height);
    return false;
  }
  image.width = width;
  image.height = height;
  image.rgb.assign(pixels, pixels + static_cast<size_t>(width) * height * 3);
  stbi_image_free(pixels);
  return true;
}

}  // namespace remix::data
