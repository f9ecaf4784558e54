// The nesting bound in front of the JSON parser: deep arrays and objects are refused before any
// parsing, brackets inside strings do not count, and invalid JSON names its origin.
#include "nn/json_guard.h"

#include <gtest/gtest.h>

#include "tensor/check.h"

namespace remix::nn {
namespace {

std::string nested(int depth, const std::string& inside = "1") {
  std::string text;
  for (int i = 0; i < depth; ++i) text += i % 2 ? "{\"k\":" : "[";
  text += inside;
  for (int i = depth - 1; i >= 0; --i) text += i % 2 ? "}" : "]";
  return text;
}

std::string error_of(const std::string& text) {
  try {
    parse_json(text, "test.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JsonGuard, ParsesNestingUpToTheLimit) {
  const nlohmann::json json = parse_json(nested(kMaxJsonNesting), "test.json");
  EXPECT_TRUE(json.is_array());
}

TEST(JsonGuard, RefusesNestingBeyondTheLimitBeforeParsing) {
  const std::string message = error_of(nested(kMaxJsonNesting + 1));
  EXPECT_NE(message.find("test.json: JSON nested more than 64 levels deep"), std::string::npos)
      << message;
  // Far too deep for a recursive parser, and not even closed: refused all the same.
  EXPECT_NE(error_of(std::string(1'000'000, '[')).find("nested more than"), std::string::npos);
}

TEST(JsonGuard, BracketsInsideStringsDoNotCount) {
  const std::string brackets(1000, '[');
  EXPECT_EQ(parse_json("{\"a\": \"" + brackets + "\"}", "t").at("a"), brackets);
  // An escaped quote does not end the string; an escaped backslash before a quote does.
  EXPECT_EQ(parse_json("[\"\\\"" + brackets + "\"]", "t")[0], "\"" + brackets);
  EXPECT_NE(error_of("[\"\\\\\"" + brackets + "\"]").find("nested more than"), std::string::npos);
}

TEST(JsonGuard, InvalidJsonIsAnErrorNamingItsOrigin) {
  const std::string message = error_of("{\"a\": ");
  EXPECT_NE(message.find("test.json: not valid JSON"), std::string::npos) << message;
}

}  // namespace
}  // namespace remix::nn
