// The progress line and the per-epoch summary (see progress.h).
#include "apps/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace remix::app {

namespace {
constexpr double kRedrawSeconds = 0.25;  // terminal redraws at most this often
constexpr int kBarWidth = 20;

std::string bar(int64_t done, int64_t total) {
  const int filled = total > 0 ? static_cast<int>(kBarWidth * done / total) : 0;
  return std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(kBarWidth - filled), '-');
}
}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  const int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{}:{:02}", m, s);
}

std::string format_epoch_line(const EpochMetrics& m, int64_t epochs) {
  return fmt::format(
      "epoch {}/{}  train loss {:.4f} top-1 {:.2f}%  test top-1 {:.2f}% top-5 {:.2f}% loss "
      "{:.4f}  lr {:.5f}  {:.0f} img/s  elapsed {}",
      m.epoch, epochs, m.train_loss, 100 * m.train_top1, 100 * m.test_top1, 100 * m.test_top5,
      m.test_loss, m.lr, m.images_per_s, format_duration(m.elapsed_s));
}

ProgressDisplay::ProgressDisplay(std::FILE* out, bool interactive, int64_t log_every)
    : out_(out), interactive_(interactive), log_every_(std::max<int64_t>(1, log_every)) {}

void ProgressDisplay::start_epoch(int64_t epoch, int64_t epochs, int64_t first, int64_t total) {
  epoch_ = epoch;
  epochs_ = epochs;
  first_ = first;
  total_ = total;
  started_ = Clock::now();
  drawn_ = false;
}

bool ProgressDisplay::wants_update(int64_t batches_done) const {
  if (!interactive_) return batches_done % log_every_ == 0 || batches_done == total_;
  return !drawn_ || batches_done == total_ ||
         std::chrono::duration<double>(Clock::now() - last_draw_).count() >= kRedrawSeconds;
}

void ProgressDisplay::update(int64_t batches_done, double loss, double top1, int64_t images) {
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  const int64_t done_here = batches_done - first_;
  const double images_per_s = seconds > 0 ? static_cast<double>(images) / seconds : 0.0;
  const double eta = done_here > 0 ? seconds / static_cast<double>(done_here) *
                                         static_cast<double>(total_ - batches_done)
                                   : NAN;
  const std::string fields =
      fmt::format("{:>4}/{}  loss {:.4f}  top-1 {:5.1f}%  {:.0f} img/s  ETA {}", batches_done,
                  total_, loss, 100 * top1, images_per_s, format_duration(eta));
  if (interactive_) {
    fmt::print(out_, "\repoch {}/{}  [{}] {}\x1b[K", epoch_ + 1, epochs_, bar(batches_done, total_),
               fields);
  } else {
    fmt::print(out_, "epoch {}/{}  batch {}\n", epoch_ + 1, epochs_, fields);
  }
  std::fflush(out_);
  last_draw_ = Clock::now();
  drawn_ = true;
}

void ProgressDisplay::finish_epoch() {
  if (interactive_ && drawn_) {
    fmt::print(out_, "\r\x1b[K");
    std::fflush(out_);
  }
  drawn_ = false;
}

}  // namespace remix::app
