// What remix-train prints while it trains.
//
// On a terminal, a progress line redrawn in place (with \r) a few times a second:
//   epoch 3/30  [#########-----------]  140/391  loss 1.2345  top-1 61.2%  812 img/s  ETA 0:31
// Elsewhere (a log file, a pipe), the same fields as plain lines, one every `log_every` batches.
// Each epoch ends with one summary line (format_epoch_line), printed by the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "apps/metrics.h"

namespace remix::app {

// "1:02:03" or "2:03".
std::string format_duration(double seconds);
// One line summing up an epoch: train loss/top-1, test top-1/top-5, lr, images/s, elapsed.
std::string format_epoch_line(const EpochMetrics& metrics, int64_t epochs);

class ProgressDisplay {
 public:
  // interactive: redraw one line in place (a terminal); otherwise print plain lines.
  ProgressDisplay(std::FILE* out, bool interactive, int64_t log_every);

  // Starts counting an epoch of `total` batches, of which `first` are already done (resume).
  void start_epoch(int64_t epoch, int64_t epochs, int64_t first, int64_t total);
  // Whether the display wants the numbers of `batches_done` batches (reading the loss
  // synchronises with the device, so the caller asks first).
  bool wants_update(int64_t batches_done) const;
  // loss and top1 are the epoch's running means; images counts this session's images.
  void update(int64_t batches_done, double loss, double top1, int64_t images);
  // Clears the progress line so that the epoch's summary line starts clean.
  void finish_epoch();

 private:
  using Clock = std::chrono::steady_clock;

  std::FILE* out_;
  bool interactive_;
  int64_t log_every_;
  int64_t epoch_ = 0, epochs_ = 0, first_ = 0, total_ = 0;
  Clock::time_point started_, last_draw_;
  bool drawn_ = false;
};

}  // namespace remix::app
