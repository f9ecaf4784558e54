// The per-kind step profile (see profile.h).
#include "tensor/profile.h"

#include <atomic>
#include <mutex>

namespace remix::profile {
namespace {

std::atomic<bool> g_enabled{false};
std::mutex g_mutex;
std::array<Total, kKinds> g_totals;
thread_local int t_depth = 0;  // scopes open on this thread

}  // namespace

const char* kind_name(Kind kind) {
  static constexpr std::array<const char*, kKinds> names = {"conv forward",
                                                            "conv backward-data",
                                                            "conv backward-filter",
                                                            "batch norm",
                                                            "elementwise",
                                                            "copy",
                                                            "pooling",
                                                            "linear",
                                                            "loss",
                                                            "optimizer",
                                                            "augmentation"};
  return names[static_cast<int>(kind)];
}

void enable(bool on) {
  g_enabled.store(on, std::memory_order_relaxed);
}
bool enabled() {
  return g_enabled.load(std::memory_order_relaxed);
}

void reset() {
  const std::lock_guard<std::mutex> lock(g_mutex);
  g_totals = {};
}

std::array<Total, kKinds> totals() {
  const std::lock_guard<std::mutex> lock(g_mutex);
  return g_totals;
}

Scope::Scope(Kind kind) : kind_(kind) {
  if (!enabled()) return;
  counted_ = true;
  timing_ = t_depth++ == 0;
  if (timing_) start_ = std::chrono::steady_clock::now();
}

Scope::~Scope() {
  if (!counted_) return;
  --t_depth;
  if (!timing_) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::lock_guard<std::mutex> lock(g_mutex);
  Total& total = g_totals[static_cast<int>(kind_)];
  total.seconds += seconds;
  total.calls += 1;
}

}  // namespace remix::profile
