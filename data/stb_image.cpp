// The one file that compiles stb_image (v2.27 as packaged by Debian), and the small wrappers of
// data/image_decoder.h around it.
//
// Only the JPEG, PNG and BMP decoders are compiled: the packaged version has published
// vulnerabilities, most of them in its GIF decoder, and remix needs no other format. Image sides
// are capped at kMaxImageDimension, the header is checked before decoding, the bytes pass the
// checks of data/stb_guard.h (what this version of stb trusts and should not) before stb sees
// them, and stb never opens files itself (STBI_NO_STDIO): it only sees bytes that the caller read.
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "data/image_decoder.h"
#include "data/stb_guard.h"

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

// The bytes stb may see: `bytes` itself, or a repaired copy kept in `storage` (a PNG without
// its empty IDAT chunks); nullptr with `error` set when stb must not see them at all.
const std::vector<uint8_t>* bytes_for_stb(const std::vector<uint8_t>& bytes,
                                          std::vector<uint8_t>& storage, std::string& error) {
  if (bytes.empty() || bytes.size() > static_cast<size_t>(INT_MAX)) {
    error = bytes.empty() ? "empty file" : "file too large to be an image";
    return nullptr;
  }
  if (starts_with(bytes, "GIF8")) {  // refused here, before stb sees a single byte of it
    error = refusal_reason(bytes);
    return nullptr;
  }
  for (auto check : {stb_guard::jpeg_problem, stb_guard::png_problem, stb_guard::bmp_problem})
    if (std::string problem = check(bytes); !problem.empty()) {
      error = std::move(problem);
      return nullptr;
    }
  if (!stb_guard::png_has_empty_idat(bytes)) return &bytes;
  storage = stb_guard::png_without_empty_idat(bytes);
  return &storage;
}

bool read_checked_header(const std::vector<uint8_t>& bytes, ImageHeader& header,
                         std::string& error) {
  if (!stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &header.width,
                             &header.height, &header.channels)) {
    error = refusal_reason(bytes);
    return false;
  }
  // stb reports a BMP stored top down (its rows in reading order) with a negative height.
  if (starts_with(bytes, "BM") && header.height < 0 && header.height > INT_MIN)
    header.height = -header.height;
  if (header.width < 1 || header.height < 1 || header.width > kMaxImageDimension ||
      header.height > kMaxImageDimension || header.channels < 1 || header.channels > 4) {
    error = fmt::format("image header claims {}x{} with {} channels, expected sides in 1..{}",
                        header.width, header.height, header.channels, kMaxImageDimension);
    return false;
  }
  return true;
}

}  // namespace

bool read_image_header(const std::vector<uint8_t>& bytes, ImageHeader& header, std::string& error) {
  std::vector<uint8_t> storage;
  const std::vector<uint8_t>* checked = bytes_for_stb(bytes, storage, error);
  return checked != nullptr && read_checked_header(*checked, header, error);
}

bool decode_rgb(const std::vector<uint8_t>& bytes, DecodedImage& image, std::string& error) {
  std::vector<uint8_t> storage;
  const std::vector<uint8_t>* checked = bytes_for_stb(bytes, storage, error);
  ImageHeader header;
  if (checked == nullptr || !read_checked_header(*checked, header, error)) return false;
  int width = 0, height = 0, channels_in_file = 0;
  uint8_t* pixels = stbi_load_from_memory(checked->data(), static_cast<int>(checked->size()),
                                          &width, &height, &channels_in_file, 3);
  if (pixels == nullptr) {
    error = refusal_reason(*checked);
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
