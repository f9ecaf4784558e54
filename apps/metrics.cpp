// Top-k accuracy on the host and the metrics.jsonl file (see metrics.h).
#include "apps/metrics.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "nn/json_guard.h"
#include "tensor/check.h"

namespace remix::app {

TopKCounts count_top_k(const std::vector<float>& logits, const std::vector<int32_t>& labels,
                       int64_t classes) {
  REMIX_CHECK(classes > 0 && logits.size() == labels.size() * static_cast<size_t>(classes),
              "count_top_k: {} logits do not hold {} rows of {} classes", logits.size(),
              labels.size(), classes);
  TopKCounts counts;
  for (size_t row = 0; row < labels.size(); ++row) {
    const float* z = logits.data() + row * static_cast<size_t>(classes);
    const int32_t label = labels[row];
    REMIX_CHECK(label >= 0 && label < classes, "count_top_k: label {} outside [0, {})", label,
                classes);
    if (!std::isfinite(z[label])) continue;  // a NaN or inf prediction is never right
    // The label's rank: classes scoring higher, and equal ones before it (argmax takes the
    // first of tied maxima).
    int64_t rank = 0;
    for (int64_t k = 0; k < classes; ++k)
      if (z[k] > z[label] || (z[k] == z[label] && k < label) || std::isnan(z[k])) ++rank;
    counts.top1 += rank == 0;
    counts.top5 += rank < 5;
  }
  return counts;
}

nlohmann::json to_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"train_loss", m.train_loss},
          {"train_top1", m.train_top1},
          {"test_loss", m.test_loss},
          {"test_top1", m.test_top1},
          {"test_top5", m.test_top5},
          {"lr", m.lr},
          {"images_per_s", m.images_per_s},
          {"elapsed_s", m.elapsed_s}};
}

EpochMetrics metrics_from_json(const nlohmann::json& json) {
  const auto number = [&json](const char* key) { return nn::json_double(json.at(key), key); };
  EpochMetrics m;
  m.epoch = nn::json_int64(json.at("epoch"), "epoch");
  m.train_loss = number("train_loss");
  m.train_top1 = number("train_top1");
  m.test_loss = number("test_loss");
  m.test_top1 = number("test_top1");
  m.test_top5 = number("test_top5");
  m.lr = number("lr");
  m.images_per_s = number("images_per_s");
  m.elapsed_s = number("elapsed_s");
  return m;
}

void append_metrics(const std::string& path, const EpochMetrics& metrics) {
  std::ofstream out(path, std::ios::app);
  out << to_json(metrics).dump() << '\n';
  out.flush();
  REMIX_CHECK(out.good(), "cannot append to {}", path);
}

std::vector<EpochMetrics> read_metrics(const std::string& path) {
  std::vector<EpochMetrics> lines;
  std::ifstream in(path);
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string where = fmt::format("{} line {}", path, number);
    // A last line without its newline is an append cut short (the machine went down while
    // writing it): it is dropped when it is not a whole JSON object.
    nn::check_json_nesting(line, where);
    if (in.eof() && !nlohmann::json::accept(line)) break;
    const nlohmann::json json = nn::parse_json(line, where);
    try {
      lines.push_back(metrics_from_json(json));
    } catch (const nlohmann::json::exception& e) {
      throw_error(fmt::format("{}: not a metrics line: {}", where, e.what()));
    } catch (const Error& e) {
      throw_error(fmt::format("{}: not a metrics line: {}", where, e.what()));
    }
  }
  return lines;
}

void truncate_metrics(const std::string& path, int64_t epochs) {
  if (!std::filesystem::exists(path)) return;
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const EpochMetrics& m : read_metrics(path))
      if (m.epoch <= epochs) out << to_json(m).dump() << '\n';
    out.flush();
    REMIX_CHECK(out.good(), "cannot write {}", temporary);
  }
  std::filesystem::rename(temporary, path);  // atomic: the old file or the new one, never half
}

}  // namespace remix::app
