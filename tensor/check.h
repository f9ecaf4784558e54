// Errors: every failure in remix is a remix::Error whose message says what was wrong and what
// was expected. REMIX_CHECK(cond, fmt, args...) formats the message with fmt only when it fails.
#pragma once

#include <stdexcept>
#include <string>

namespace remix {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Thrown when a device runs out of memory, so that callers can report it distinctly.
class OutOfMemoryError : public Error {
 public:
  explicit OutOfMemoryError(const std::string& what) : Error(what) {}
};

[[noreturn]] void throw_error(const std::string& message);

}  // namespace remix

#ifndef __CUDACC__
#include <fmt/format.h>
#include <fmt/ranges.h>
#define REMIX_CHECK(cond, ...)                                      \
  do {                                                              \
    if (!(cond)) ::remix::throw_error(::fmt::format(__VA_ARGS__)); \
  } while (0)
#endif
