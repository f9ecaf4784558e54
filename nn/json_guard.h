// Reading JSON that comes from files (safetensors headers, config.json, metrics.jsonl, the
// training progress in a checkpoint): its nesting is bounded before a parser sees it.
//
// nlohmann::json builds and takes apart nested values by recursion, so a few hundred kilobytes of
// "[[[[..." would overflow the stack. No file remix writes nests deeper than 3 levels, so
// check_json_nesting() scans the text once (brackets outside strings) and refuses anything deeper
// than kMaxJsonNesting before parsing starts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace remix::nn {

inline constexpr int kMaxJsonNesting = 64;

// Throws a remix::Error naming `origin` when arrays and objects in `text` nest deeper than
// `max_depth` levels. Says nothing about whether `text` is valid JSON.
void check_json_nesting(std::string_view text, const std::string& origin,
                        int max_depth = kMaxJsonNesting);

// check_json_nesting, then parses; invalid JSON is a remix::Error naming `origin` too.
nlohmann::json parse_json(std::string_view text, const std::string& origin);

// Numbers read from such JSON. nlohmann's get<int64_t>() converts a fraction or 1e300 as C++
// does, which cuts it or is undefined behaviour: these throw a remix::Error saying what `what`
// should have been instead.
int64_t json_int64(const nlohmann::json& value, const std::string& what);  // a whole number
double json_double(const nlohmann::json& value, const std::string& what);  // any number

}  // namespace remix::nn
