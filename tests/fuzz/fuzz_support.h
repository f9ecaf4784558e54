// What the fuzz targets share. A target hands libFuzzer's bytes to one reader of remix. Bad
// input may only end in a remix::Error (the documented answer to a bad file); anything else is a
// finding: a crash, a sanitizer report, another exception escaping, or a result that breaks what
// the reader promises (checked with require()).
//
// Readers that take files get them in a scratch folder of this process. Targets that need several
// files cut the input into parts at kPartSeparator, so that libFuzzer mutates each file in place.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/check.h"

namespace remix::fuzz {

inline constexpr std::string_view kPartSeparator = "\n#remix-part#\n";

// Stops the run with a message when a reader broke its promise; libFuzzer saves the input.
inline void require(bool condition, const char* promise) {
  if (condition) return;
  std::fprintf(stderr, "fuzz finding: %s\n", promise);
  std::abort();
}

// Runs `read`; a remix::Error is a correct answer to bad bytes, anything else propagates.
template <class Read>
void allow_remix_errors(Read&& read) {
  try {
    read();
  } catch (const Error&) {
  }
}

// An empty folder of this process's own (emptied again on every call).
inline std::filesystem::path fresh_scratch_dir() {
  static const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                           ("remix-fuzz-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  require(out.good(), "the scratch folder is writable");
}

// The input cut at each kPartSeparator; the last part holds the rest once `max_parts` are found.
inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size,
                                                 size_t max_parts) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t at = rest.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(rest.substr(0, at));
    rest.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(rest);
  return parts;
}

inline std::vector<uint8_t> as_bytes(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

}  // namespace remix::fuzz
