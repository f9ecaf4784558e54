// Ranges of numeric settings: help text and checks (see option_range.h).
#include "nn/option_range.h"

#include <fmt/format.h>

#include "tensor/check.h"

namespace remix {

bool OptionRange::contains(double value) const {
  const bool above_min = min_open ? value > min : value >= min;
  const bool below_max = max_open ? value < max : value <= max;
  return above_min && below_max;  // both false for NaN
}

std::string OptionRange::text() const {
  const auto bound = [this](double v) {
    return integer ? fmt::format("{}", static_cast<int64_t>(v)) : fmt::format("{}", v);
  };
  return fmt::format("{}{}, {}{}", min_open ? '(' : '[', bound(min), bound(max),
                     max_open ? ')' : ']');
}

std::string with_range(const std::string& description, const OptionRange& range) {
  return fmt::format("{} {}", description, range.text());
}

void check_in_range(const std::string& option, double value, const OptionRange& range) {
  REMIX_CHECK(range.contains(value), "{} must be in {}, got {}", option, range.text(), value);
}

void check_in_range(const std::string& option, int64_t value, const OptionRange& range) {
  const auto min = static_cast<int64_t>(range.min), max = static_cast<int64_t>(range.max);
  const bool inside = (range.min_open ? value > min : value >= min) &&
                      (range.max_open ? value < max : value <= max);
  REMIX_CHECK(inside, "{} must be in {}, got {}", option, range.text(), value);
}

}  // namespace remix
