// OptionRange: the values a numeric setting accepts. One constant per setting (remix-train's in
// apps/train_config.cpp, the augmentations' in augment/options.cpp) feeds both the --help text
// and the check of the value, so that what --help promises is what is enforced, whether the
// value came from the command line or from a run's config.json.
#pragma once

#include <cstdint>
#include <string>

namespace remix {

struct OptionRange {
  double min = 0, max = 0;
  bool min_open = false, max_open = false;  // (min, ...  and  ..., max)
  bool integer = true;                      // shown as [1, 65536] rather than (0, 10]

  // False for NaN, and for anything outside the bounds.
  bool contains(double value) const;
  // "[1, 65536]", "(0, 1]", "[0, 1)".
  std::string text() const;
};

inline constexpr OptionRange integer_range(int64_t min, int64_t max) {
  return {static_cast<double>(min), static_cast<double>(max), false, false, true};
}

inline constexpr OptionRange real_range(double min, double max, bool min_open, bool max_open) {
  return {min, max, min_open, max_open, false};
}

// `description` followed by the range, for --help.
std::string with_range(const std::string& description, const OptionRange& range);

// Throws a remix::Error "--NAME must be in RANGE, got VALUE" when `value` lies outside.
void check_in_range(const std::string& option, double value, const OptionRange& range);
// The same for integers, which are compared exactly (a double would round 2^63 - 1 to 2^63).
void check_in_range(const std::string& option, int64_t value, const OptionRange& range);
inline void check_in_range(const std::string& option, int value, const OptionRange& range) {
  check_in_range(option, int64_t{value}, range);
}

}  // namespace remix
