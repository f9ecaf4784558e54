// What a training run measures and where it writes it.
//
// Accuracy: top-k counts computed on the host from logits copied there (N x K, row-major).
// EpochMetrics: one line of metrics.jsonl, the JSON-lines file of a run (one object per epoch):
//   {"epoch": 3, "train_loss": 1.23, "train_top1": 0.61, "test_loss": 0.98, "test_top1": 0.70,
//    "test_top5": 0.97, "lr": 0.0854, "images_per_s": 812.4, "elapsed_s": 97.1}
// Epochs are counted from 1 in the file and on screen. train_top1 compares the prediction with
// the argmax of the (mixed) training target. elapsed_s counts the training time of the run so
// far, summed over resumed sessions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace remix::app {

struct TopKCounts {
  int64_t top1 = 0;  // rows whose label has the highest logit (first index on ties)
  int64_t top5 = 0;  // rows whose label is among the 5 highest logits
};

// logits: rows x classes values; labels: one per row, each in [0, classes).
TopKCounts count_top_k(const std::vector<float>& logits, const std::vector<int32_t>& labels,
                       int64_t classes);

struct EpochMetrics {
  int64_t epoch = 0;
  double train_loss = 0, train_top1 = 0;
  double test_loss = 0, test_top1 = 0, test_top5 = 0;
  double lr = 0;            // the rate of the epoch's last step
  double images_per_s = 0;  // training images per second of this epoch
  double elapsed_s = 0;
};

nlohmann::json to_json(const EpochMetrics& metrics);
EpochMetrics metrics_from_json(const nlohmann::json& json);

// Appends one line to `path` (created if missing).
void append_metrics(const std::string& path, const EpochMetrics& metrics);
// Every line of `path` (none when the file does not exist). A last line cut short (no newline,
// not whole JSON) is left out.
std::vector<EpochMetrics> read_metrics(const std::string& path);
// Keeps the lines of epochs 1..`epochs` and drops the rest (a resumed run rewrites them).
void truncate_metrics(const std::string& path, int64_t epochs);

}  // namespace remix::app
