// Checks of raw image bytes for what stb_image 2.27 trusts and should not: run before stb sees
// a byte, by data/stb_image.cpp alone.
//
// Each check walks the file the way stb's own parser does, so that every structure stb would act
// on is checked first, however the file is dressed (fill bytes, junk between segments, chunks in
// any order). Where stb would stop with an error anyway, the walk may go on: it checks a superset
// of what stb reads, never less.
//   JPEG  every Huffman table (DHT) stb would build must be a prefix code of at most 256 symbols:
//         stb writes past its 257-entry size array when the counts sum to more. Every table a
//         scan decodes with must have been built by a DHT before it: stb would decode with
//         uninitialised memory and read far outside the table.
//   PNG   chunks must lie inside the file and critical chunks must be ones stb knows; empty IDAT
//         chunks are dropped, because stb copies an empty first one from a null pointer.
//   BMP   the height must not be INT_MIN, whose absolute value stb takes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remix::data::stb_guard {

// Each returns why stb must not see `bytes`, or an empty string when it may (including bytes
// that are not of that format at all).
std::string jpeg_problem(const std::vector<uint8_t>& bytes);
std::string png_problem(const std::vector<uint8_t>& bytes);
std::string bmp_problem(const std::vector<uint8_t>& bytes);

// True when `bytes` is a PNG holding an IDAT chunk of length 0.
bool png_has_empty_idat(const std::vector<uint8_t>& bytes);
// The same PNG without its empty IDAT chunks (they carry no pixel data). `bytes` must have
// passed png_problem.
std::vector<uint8_t> png_without_empty_idat(const std::vector<uint8_t>& bytes);

}  // namespace remix::data::stb_guard
