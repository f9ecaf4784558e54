// The nesting check in front of the JSON parser (see json_guard.h).
#include "nn/json_guard.h"

#include <cstdint>

#include "tensor/check.h"

namespace remix::nn {

void check_json_nesting(std::string_view text, const std::string& origin, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      REMIX_CHECK(++depth <= max_depth,
                  "{}: JSON nested more than {} levels deep (at byte {}); remix's files nest "
                  "at most a few levels",
                  origin, max_depth, i);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

nlohmann::json parse_json(std::string_view text, const std::string& origin) {
  check_json_nesting(text, origin);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_error(fmt::format("{}: not valid JSON: {}", origin, e.what()));
  }
}

int64_t json_int64(const nlohmann::json& value, const std::string& what) {
  REMIX_CHECK(
      value.is_number_integer() && (!value.is_number_unsigned() ||
                                    value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)),
      "{} must be a whole number in the 64-bit range, got {}", what, value.dump());
  return value.get<int64_t>();
}

double json_double(const nlohmann::json& value, const std::string& what) {
  REMIX_CHECK(value.is_number(), "{} must be a number, got {}", what, value.dump());
  return value.get<double>();
}

}  // namespace remix::nn
