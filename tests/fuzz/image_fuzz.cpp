// Fuzz target: the image header reader and decoder (data/image_decoder.h: stb_image behind the
// checks of data/stb_guard.h) on arbitrary bytes. They report failure and never throw; what they
// accept has sides in 1..kMaxImageDimension, and a decoded image is exactly what its header says.
#include "data/image_decoder.h"
#include "tests/fuzz/fuzz_support.h"

using namespace remix;
using namespace remix::data;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  ImageHeader header;
  std::string error;
  const bool header_read = read_image_header(bytes, header, error);
  fuzz::require(header_read || !error.empty(), "a refused header comes with a reason");
  if (header_read)
    fuzz::require(header.width >= 1 && header.height >= 1 && header.width <= kMaxImageDimension &&
                      header.height <= kMaxImageDimension,
                  "an accepted header has sides in 1..kMaxImageDimension");
  DecodedImage image;
  error.clear();
  if (!decode_rgb(bytes, image, error)) {
    fuzz::require(!error.empty(), "a refused image comes with a reason");
    return 0;
  }
  fuzz::require(header_read, "an image that decodes has a readable header");
  fuzz::require(image.width == header.width && image.height == header.height,
                "the decoded size is the header's");
  fuzz::require(image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3,
                "a decoded image holds width * height * 3 bytes");
  return 0;
}
