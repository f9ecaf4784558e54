// Walks JPEG, PNG and BMP bytes the way stb_image 2.27 parses them (see stb_guard.h).
#include "data/stb_guard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace remix::data::stb_guard {

namespace {

// stb reads a 0 for every byte past the end of the buffer; so does this.
uint8_t byte_at(const std::vector<uint8_t>& b, size_t i) {
  return i < b.size() ? b[i] : 0;
}

uint32_t little_endian32(const std::vector<uint8_t>& b, size_t i) {
  return uint32_t{byte_at(b, i)} | uint32_t{byte_at(b, i + 1)} << 8 |
         uint32_t{byte_at(b, i + 2)} << 16 | uint32_t{byte_at(b, i + 3)} << 24;
}

uint32_t big_endian32(const std::vector<uint8_t>& b, size_t i) {
  return uint32_t{byte_at(b, i)} << 24 | uint32_t{byte_at(b, i + 1)} << 16 |
         uint32_t{byte_at(b, i + 2)} << 8 | byte_at(b, i + 3);
}

// ------------------------------------------------------------------------------------- JPEG

constexpr uint8_t kSOI = 0xD8, kEOI = 0xD9, kSOS = 0xDA, kDHT = 0xC4;

// Segments that stb reads by their 16-bit length: SOF0-2, DHT, DQT, DNL, DRI, SOS, APPn, COM.
// For any other marker stb fails, and reads nothing more.
bool stb_reads_segment(uint8_t marker) {
  return (marker >= 0xC0 && marker <= 0xC2) || marker == kDHT || marker == 0xDB || marker == 0xDC ||
         marker == 0xDD || marker == kSOS || (marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE;
}

// At an 0xFF: a marker is one 0xFF, any number of fill 0xFF bytes, and the marker code. Moves
// `pos` past the code and returns it.
uint8_t read_marker(const std::vector<uint8_t>& b, size_t& pos) {
  ++pos;
  while (pos < b.size() && b[pos] == 0xFF) ++pos;
  return byte_at(b, pos++);
}

// The next marker from `pos`, skipping any other bytes before it (stb does this between the
// segments before the frame header, and fails where it does not). False at the end.
bool next_marker(const std::vector<uint8_t>& b, size_t& pos, uint8_t& marker) {
  while (pos < b.size() && b[pos] != 0xFF) ++pos;
  if (pos >= b.size()) return false;
  marker = read_marker(b, pos);
  return true;
}

// After a scan header comes entropy-coded data, in which FF 00 is a stuffed 0xFF byte and
// FF D0..D7 a restart marker; stb's decoder reads through both and stops at any other marker.
bool next_marker_after_scan(const std::vector<uint8_t>& b, size_t& pos, uint8_t& marker) {
  while (next_marker(b, pos, marker))
    if (marker != 0x00 && (marker < 0xD0 || marker > 0xD7)) return true;
  return false;
}

// The Huffman tables (DC 0-3, AC 0-3) that DHT segments have built so far.
struct BuiltTables {
  bool dc[4] = {}, ac[4] = {};
};

// The tables of a DHT segment as stb reads them: while the declared length has bytes left, a
// class/id byte, 16 counts (codes of length 1..16) and the symbols. stb builds each table from
// the counts before it checks anything but the class/id byte.
std::string huffman_problem(const std::vector<uint8_t>& b, size_t segment, BuiltTables& built) {
  int64_t left = int64_t{byte_at(b, segment)} << 8 | byte_at(b, segment + 1);
  left -= 2;
  size_t table = segment + 2;
  while (left > 0) {
    const uint8_t kind = byte_at(b, table);
    if (kind >> 4 > 1 || (kind & 15) > 3) return {};  // stb refuses the segment before building
    size_t symbols = 0;
    uint32_t kraft = 0;  // sum of 2^(16 - length) over the codes: at most 2^16 for a prefix code
    for (size_t length = 1; length <= 16; ++length) {
      const size_t count = byte_at(b, table + length);
      symbols += count;
      kraft += static_cast<uint32_t>(count) << (16 - length);
    }
    if (symbols > 256)
      return fmt::format("corrupt JPEG: a Huffman table holds {} symbols, at most 256 exist",
                         symbols);
    if (kraft > (uint32_t{1} << 16))
      return "corrupt JPEG: a Huffman table's code lengths do not form a prefix code";
    (kind >> 4 == 0 ? built.dc : built.ac)[kind & 15] = true;
    table += 17 + symbols;
    left -= static_cast<int64_t>(17 + symbols);
  }
  return {};
}

// stb decodes a scan with the tables its header names without checking that a DHT built them:
// a table no DHT filled is uninitialised memory, and a symbol index taken from it lands far
// outside the table's arrays. A scan header is a count n, n pairs (component, DC << 4 | AC
// table) and Ss, Se, Ah << 4 | Al. Baseline scans use both tables of each component;
// progressive ones the DC table in a first DC pass (Ss = 0, Ah = 0), none in a DC refinement
// pass, and the AC table in AC passes (Ss > 0).
std::string scan_table_problem(const std::vector<uint8_t>& b, size_t segment, bool progressive,
                               const BuiltTables& built) {
  const size_t n = byte_at(b, segment + 2), after = segment + 3 + 2 * n;
  const uint8_t spectral_start = byte_at(b, after), approximation_high = byte_at(b, after + 2) >> 4;
  const bool uses_dc = !progressive || (spectral_start == 0 && approximation_high == 0);
  const bool uses_ac = !progressive || spectral_start > 0;
  const auto missing = [](const char* kind, int id) {
    return fmt::format(
        "corrupt JPEG: a scan decodes with {} Huffman table {}, which no DHT "
        "segment defines before it",
        kind, id);
  };
  for (size_t i = 0; i < n; ++i) {
    const uint8_t tables = byte_at(b, segment + 4 + 2 * i);
    const int dc = tables >> 4, ac = tables & 15;  // stb refuses ids above 3 itself
    if (uses_dc && dc <= 3 && !built.dc[dc]) return missing("DC", dc);
    if (uses_ac && ac <= 3 && !built.ac[ac]) return missing("AC", ac);
  }
  return {};
}

// ------------------------------------------------------------------------------------- PNG

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

constexpr uint32_t chunk_type(const char (&name)[5]) {
  return uint32_t(uint8_t(name[0])) << 24 | uint32_t(uint8_t(name[1])) << 16 |
         uint32_t(uint8_t(name[2])) << 8 | uint8_t(name[3]);
}

bool is_png(const std::vector<uint8_t>& b) {
  return b.size() >= 8 && std::memcmp(b.data(), kPngSignature, 8) == 0;
}

std::string chunk_name(uint32_t type) {
  std::string name;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const char c = static_cast<char>(type >> shift & 0xFF);
    name += std::isalpha(static_cast<unsigned char>(c)) ? std::string(1, c)
                                                        : fmt::format("\\x{:02x}", c & 0xFF);
  }
  return name;
}

// Critical chunks (bit 5 of the first letter clear) that stb handles; it refuses the others,
// writing their name into a buffer shared by all threads.
bool stb_knows_critical_chunk(uint32_t type) {
  return type == chunk_type("IHDR") || type == chunk_type("PLTE") || type == chunk_type("IDAT") ||
         type == chunk_type("IEND") || type == chunk_type("CgBI");
}

struct PngChunk {
  size_t offset;  // of its length field
  uint32_t length, type;
};

// The chunks up to and including IEND, or the reason the file cannot be walked to it.
std::string png_chunks(const std::vector<uint8_t>& b, std::vector<PngChunk>& chunks) {
  for (size_t pos = 8;;) {
    if (b.size() - pos < 8) return "truncated PNG: the file ends before its IEND chunk";
    const PngChunk chunk{pos, big_endian32(b, pos), big_endian32(b, pos + 4)};
    if (chunk.length > b.size() - pos - 8)
      return fmt::format("truncated or corrupt PNG: chunk '{}' claims {} bytes, {} remain",
                         chunk_name(chunk.type), chunk.length, b.size() - pos - 8);
    if ((chunk.type & (uint32_t{1} << 29)) == 0 && !stb_knows_critical_chunk(chunk.type))
      return fmt::format("unsupported PNG: unknown critical chunk '{}'", chunk_name(chunk.type));
    chunks.push_back(chunk);
    if (chunk.type == chunk_type("IEND")) return {};
    pos += 12 + size_t{chunk.length};  // length, type, data, CRC
    if (pos > b.size()) return "truncated PNG: the file ends inside a chunk's CRC";
  }
}

}  // namespace

std::string jpeg_problem(const std::vector<uint8_t>& b) {
  // stb's start of image: 0xFF, any fill bytes, then D8.
  size_t pos = 0;
  if (b.empty() || b[0] != 0xFF || read_marker(b, pos) != kSOI) return {};
  bool after_scan_header = false, progressive = false;
  BuiltTables built;
  uint8_t marker = 0;
  while (after_scan_header ? next_marker_after_scan(b, pos, marker) : next_marker(b, pos, marker)) {
    if (marker == kEOI || !stb_reads_segment(marker)) return {};
    std::string problem;
    if (marker == kDHT) problem = huffman_problem(b, pos, built);
    if (marker == kSOS) problem = scan_table_problem(b, pos, progressive, built);
    if (!problem.empty()) return problem;
    if (marker >= 0xC0 && marker <= 0xC2) progressive = marker == 0xC2;  // SOF0, SOF1, SOF2
    after_scan_header = marker == kSOS;
    // stb reads exactly the declared length of every segment it accepts.
    pos += size_t{byte_at(b, pos)} << 8 | byte_at(b, pos + 1);
  }
  return {};
}

std::string png_problem(const std::vector<uint8_t>& b) {
  if (!is_png(b)) return {};
  std::vector<PngChunk> chunks;
  return png_chunks(b, chunks);
}

bool png_has_empty_idat(const std::vector<uint8_t>& b) {
  std::vector<PngChunk> chunks;
  if (!is_png(b) || !png_chunks(b, chunks).empty()) return false;
  for (const PngChunk& c : chunks)
    if (c.type == chunk_type("IDAT") && c.length == 0) return true;
  return false;
}

std::vector<uint8_t> png_without_empty_idat(const std::vector<uint8_t>& b) {
  std::vector<PngChunk> chunks;
  png_chunks(b, chunks);
  std::vector<uint8_t> out(b.begin(), b.begin() + 8);
  for (const PngChunk& c : chunks) {
    if (c.type == chunk_type("IDAT") && c.length == 0) continue;
    const size_t end = std::min(b.size(), c.offset + 12 + c.length);
    out.insert(out.end(), b.begin() + static_cast<ptrdiff_t>(c.offset),
               b.begin() + static_cast<ptrdiff_t>(end));
  }
  return out;
}

std::string bmp_problem(const std::vector<uint8_t>& b) {
  if (b.size() < 2 || b[0] != 'B' || b[1] != 'M') return {};
  // Headers other than the 12-byte one hold a signed 32-bit height (negative: rows top down).
  if (little_endian32(b, 14) != 12 && little_endian32(b, 22) == uint32_t{1} << 31)
    return "corrupt BMP: the height is -2147483648";
  return {};
}

}  // namespace remix::data::stb_guard
