// The checks in front of stb_image (data/stb_guard.h), through the decoder's door: JPEGs are
// followed as stb follows them (fill bytes before any marker, junk between segments, tables
// between scans), and PNG and BMP files that stb 2.27 mishandles are repaired or refused.
#include "data/stb_guard.h"

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>  // the implementation is compiled in image_folder_test.cpp

#include <climits>
#include <fstream>
#include <iterator>

#include "data/image_decoder.h"

namespace remix::data {
namespace {

using Bytes = std::vector<uint8_t>;

void append(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

Bytes pixels(int width, int height) {
  Bytes p(static_cast<size_t>(width * height * 3));
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 7 + i / 5);
  return p;
}

Bytes read_fixture(const std::string& name) {
  std::ifstream in(std::string(REMIX_TESTS_DIR) + "/data/fixtures/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string refusal(const Bytes& bytes) {
  DecodedImage image;
  std::string error;
  return decode_rgb(bytes, image, error) ? std::string("decoded") : error;
}

// ------------------------------------------------------------------------------------- JPEG

// An encoder's JPEG cut at its markers: the segments from SOI to SOS (each as marker code and
// the bytes after it), then the entropy-coded data and EOI as they are.
struct JpegParts {
  std::vector<std::pair<uint8_t, Bytes>> segments;
  Bytes scan_and_end;
};

JpegParts split_jpeg() {
  const Bytes rgb = pixels(16, 16);
  Bytes jpeg;
  EXPECT_TRUE(stbi_write_jpg_to_func(append, &jpeg, 16, 16, 3, rgb.data(), 90));
  JpegParts parts;
  parts.segments.push_back({0xD8, {}});
  for (size_t pos = 2; pos + 3 < jpeg.size();) {
    const uint8_t marker = jpeg[pos + 1];
    const size_t length = size_t{jpeg[pos + 2]} << 8 | jpeg[pos + 3];
    parts.segments.push_back(
        {marker, Bytes(jpeg.begin() + pos + 2, jpeg.begin() + pos + 2 + length)});
    pos += 2 + length;
    if (marker == 0xDA) {
      parts.scan_and_end.assign(jpeg.begin() + pos, jpeg.end());
      break;
    }
  }
  return parts;
}

// The JPEG again, with `fill` extra 0xFF bytes before every marker up to SOS, and `junk` bytes
// before the first DHT.
Bytes assemble(const JpegParts& parts, size_t fill, const Bytes& junk = {}) {
  Bytes out;
  for (const auto& [marker, body] : parts.segments) {
    if (marker == 0xC4 && !junk.empty()) out.insert(out.end(), junk.begin(), junk.end());
    out.insert(out.end(), fill + 1, 0xFF);
    out.push_back(marker);
    out.insert(out.end(), body.begin(), body.end());
  }
  out.insert(out.end(), parts.scan_and_end.begin(), parts.scan_and_end.end());
  return out;
}

// Sets the 16 code counts of the first table of the first DHT segment.
void set_first_table_counts(JpegParts& parts, const std::vector<uint8_t>& counts) {
  for (auto& [marker, body] : parts.segments)
    if (marker == 0xC4) {
      std::copy(counts.begin(), counts.end(), body.begin() + 3);  // after length, class/id
      return;
    }
  ADD_FAILURE() << "no DHT segment";
}

TEST(StbGuard, AJpegWithFillBytesBeforeEveryMarkerDecodesAsWithout) {
  const JpegParts parts = split_jpeg();
  DecodedImage plain, filled;
  std::string error;
  ASSERT_TRUE(decode_rgb(assemble(parts, 0), plain, error)) << error;
  ASSERT_TRUE(decode_rgb(assemble(parts, 3), filled, error)) << error;
  EXPECT_EQ(filled.rgb, plain.rgb);
}

TEST(StbGuard, RefusesTheJpegThatStartsWithAFillByteAndOverflowsAHuffmanTable) {
  const std::string why = refusal(read_fixture("stb_dht_oob_read_ffffd8.jpg"));
  EXPECT_NE(why.find("Huffman table holds 700 symbols"), std::string::npos) << why;
}

TEST(StbGuard, RefusesAnOversizedHuffmanTableBehindFillBytes) {
  JpegParts parts = split_jpeg();
  set_first_table_counts(parts, std::vector<uint8_t>(16, 255));
  for (size_t fill : {0, 1, 5}) {
    const std::string why = refusal(assemble(parts, fill));
    EXPECT_NE(why.find("4080 symbols"), std::string::npos) << fill << ": " << why;
  }
}

TEST(StbGuard, RefusesAnOversizedHuffmanTableAfterJunkBetweenSegments) {
  JpegParts parts = split_jpeg();
  set_first_table_counts(parts, std::vector<uint8_t>(16, 255));
  const std::string why = refusal(assemble(parts, 0, {0x00, 0x12, 0x34}));
  EXPECT_NE(why.find("Huffman table"), std::string::npos) << why;
}

TEST(StbGuard, RefusesAHuffmanTableWhoseCodeLengthsAreNotAPrefixCode) {
  JpegParts parts = split_jpeg();
  std::vector<uint8_t> counts(16, 0);
  counts[0] = 3;  // three codes of one bit
  set_first_table_counts(parts, counts);
  const std::string why = refusal(assemble(parts, 0));
  EXPECT_NE(why.find("not form a prefix code"), std::string::npos) << why;
}

TEST(StbGuard, RefusesAnOversizedHuffmanTableAfterTheEntropyCodedData) {
  const JpegParts parts = split_jpeg();
  Bytes jpeg = assemble(parts, 0);
  ASSERT_EQ(jpeg[jpeg.size() - 2], 0xFF);
  ASSERT_EQ(jpeg[jpeg.size() - 1], 0xD9);
  Bytes dht = {0xFF, 0xC4, 0x00, 19, 0x10};  // DHT, length 19, AC table 0
  dht.insert(dht.end(), 16, 255);
  jpeg.insert(jpeg.end() - 2, dht.begin(), dht.end());
  const std::string why = refusal(jpeg);
  EXPECT_NE(why.find("Huffman table"), std::string::npos) << why;
}

// A scan that names Huffman tables no DHT segment built: stb would decode with uninitialised
// memory (the fuzzer's input, which names DC table 3 and AC table 2, sent stb a billion entries
// past a 257-entry array).
TEST(StbGuard, RefusesAScanThatDecodesWithAHuffmanTableNoDhtDefines) {
  EXPECT_EQ(refusal(read_fixture("stb_scan_undefined_huffman_table.jpg")),
            "corrupt JPEG: a scan decodes with DC Huffman table 3, which no DHT segment defines "
            "before it");
  JpegParts parts = split_jpeg();
  for (auto& [marker, body] : parts.segments)
    if (marker == 0xDA) body[4] = 0x02;  // after length and count: component 1, DC 0 and AC 2
  EXPECT_EQ(stb_guard::jpeg_problem(assemble(parts, 0)),
            "corrupt JPEG: a scan decodes with AC Huffman table 2, which no DHT segment defines "
            "before it");
}

// jpegtran's progressive form of baseline_24x24.jpg: its first scan (DC only) names AC table 0
// before any DHT defines it, which is allowed, since that scan decodes no AC coefficient. The
// transcoding keeps the coefficients, so the pixels are the baseline file's.
TEST(StbGuard, AProgressiveJpegWhoseDcScanNamesAnUndefinedAcTableDecodes) {
  DecodedImage baseline, progressive;
  std::string error;
  ASSERT_TRUE(decode_rgb(read_fixture("baseline_24x24.jpg"), baseline, error)) << error;
  ASSERT_TRUE(decode_rgb(read_fixture("progressive_24x24.jpg"), progressive, error)) << error;
  EXPECT_EQ(progressive.width, 24);
  EXPECT_EQ(progressive.rgb, baseline.rgb);
}

TEST(StbGuard, IgnoresBytesThatAreNotAJpeg) {
  EXPECT_EQ(stb_guard::jpeg_problem({0xFF, 0x00, 0xFF, 0xC4, 0x00, 0x13}), "");
  EXPECT_EQ(stb_guard::jpeg_problem({'B', 'M'}), "");
  EXPECT_EQ(stb_guard::jpeg_problem({}), "");
}

// -------------------------------------------------------------------------------------- PNG

Bytes png_chunk(const char* type, const Bytes& data) {
  const auto n = static_cast<uint32_t>(data.size());
  Bytes chunk = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
  chunk.insert(chunk.end(), type, type + 4);
  chunk.insert(chunk.end(), data.begin(), data.end());
  chunk.insert(chunk.end(), 4, 0);  // CRC: stb does not check it
  return chunk;
}

// A PNG with `chunk` inserted before its first IDAT.
Bytes png_with_chunk_before_idat(const Bytes& chunk) {
  const Bytes rgb = pixels(8, 4);
  Bytes png;
  EXPECT_TRUE(stbi_write_png_to_func(append, &png, 8, 4, 3, rgb.data(), 8 * 3));
  const size_t idat = 8 + 12 + 13;  // signature, then IHDR (stb_image_write writes no other)
  EXPECT_EQ(std::string(png.begin() + idat + 4, png.begin() + idat + 8), "IDAT");
  png.insert(png.begin() + idat, chunk.begin(), chunk.end());
  return png;
}

TEST(StbGuard, AnEmptyFirstIdatChunkIsDroppedBeforeStbSeesIt) {
  const Bytes png = png_with_chunk_before_idat(png_chunk("IDAT", {}));
  ASSERT_TRUE(stb_guard::png_has_empty_idat(png));
  EXPECT_FALSE(stb_guard::png_has_empty_idat(stb_guard::png_without_empty_idat(png)));
  DecodedImage image;
  std::string error;
  ASSERT_TRUE(decode_rgb(png, image, error)) << error;
  EXPECT_EQ(image.rgb, pixels(8, 4));
}

TEST(StbGuard, RefusesTheReproducerPngWithAnEmptyFirstIdat) {
  const std::string why = refusal(read_fixture("stb_png_memcpy_null_idat.png"));
  EXPECT_NE(why.find("multiple IHDR"), std::string::npos) << why;
}

TEST(StbGuard, RefusesAPngWithAnUnknownCriticalChunk) {
  const std::string why = refusal(png_with_chunk_before_idat(png_chunk("ZZZZ", {1, 2, 3})));
  EXPECT_NE(why.find("unknown critical chunk 'ZZZZ'"), std::string::npos) << why;
  EXPECT_EQ(refusal(png_with_chunk_before_idat(png_chunk("zzZZ", {1, 2, 3}))), "decoded");
}

TEST(StbGuard, RefusesAPngWhoseChunkRunsPastTheEnd) {
  Bytes png = png_with_chunk_before_idat({});
  png.resize(png.size() - 20);
  const std::string why = refusal(png);
  EXPECT_NE(why.find("truncated"), std::string::npos) << why;
  Bytes huge = png_chunk("tEXt", {});
  huge[0] = 0x7F;  // claims 2 GB
  const std::string why_huge = refusal(png_with_chunk_before_idat(huge));
  EXPECT_NE(why_huge.find("claims 2130706432 bytes"), std::string::npos) << why_huge;
}

// -------------------------------------------------------------------------------------- BMP

Bytes bmp_bytes(int width, int height) {
  const Bytes rgb = pixels(width, height);
  Bytes bmp;
  EXPECT_TRUE(stbi_write_bmp_to_func(append, &bmp, width, height, 3, rgb.data()));
  return bmp;
}

void set_height(Bytes& bmp, int32_t height) {
  const auto h = static_cast<uint32_t>(height);
  for (int i = 0; i < 4; ++i) bmp[22 + i] = static_cast<uint8_t>(h >> (8 * i));
}

TEST(StbGuard, ABmpStoredTopDownDecodesTheRightWayUp) {
  const int width = 4, height = 3;  // rows of 12 bytes: no padding
  Bytes bmp = bmp_bytes(width, height);
  const size_t data = bmp[10] | size_t{bmp[11]} << 8;
  const size_t row = width * 3;
  for (int r = 0; r < height / 2; ++r)  // bottom-up rows to top-down
    std::swap_ranges(bmp.begin() + data + r * row, bmp.begin() + data + (r + 1) * row,
                     bmp.begin() + data + (height - 1 - r) * row);
  set_height(bmp, -height);
  DecodedImage image;
  std::string error;
  ASSERT_TRUE(decode_rgb(bmp, image, error)) << error;
  EXPECT_EQ(image.height, height);
  EXPECT_EQ(image.rgb, pixels(width, height));
}

TEST(StbGuard, RefusesABmpWhoseHeightIsTheSmallestInteger) {
  Bytes bmp = bmp_bytes(4, 3);
  set_height(bmp, INT_MIN);
  const std::string why = refusal(bmp);
  EXPECT_NE(why.find("height is -2147483648"), std::string::npos) << why;
}

}  // namespace
}  // namespace remix::data
