// Where a training step's time goes, by kind of primitive: remix-bench --profile prints it.
//
// Every checked primitive (primitives.h) opens a Scope of its kind; code above tensor/ may open
// wider ones (the training step wraps the augmentation and the optimizer step). Only the
// outermost scope of a thread counts, so that time is never counted twice: a primitive called
// inside the augmentation's scope is augmentation time. Timing is off unless enable(true) was
// called; a disabled scope costs one relaxed atomic load. On the CPU a primitive's time is its
// wall time; on CUDA it is only the launch, unless the device is synchronised after each one.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace remix::profile {

enum class Kind {
  conv_forward,
  conv_backward_data,
  conv_backward_filter,
  batch_norm,
  elementwise,  // unary, binary, reductions, ReLU backward
  copy,         // fills, casts, channel slicing / padding / concatenation, row gathers
  pooling,
  linear,  // matrix products (fully connected layers)
  loss,    // (log-)softmax, cross entropy, one-hot targets
  optimizer,
  augmentation,  // batch mixing, input transforms, ROI-Align of RecursiveMix's head
  count
};
inline constexpr int kKinds = static_cast<int>(Kind::count);

const char* kind_name(Kind kind);

void enable(bool on);
bool enabled();
// Clears the totals (time and calls of every kind).
void reset();

struct Total {
  double seconds = 0.0;
  int64_t calls = 0;
};
std::array<Total, kKinds> totals();

class Scope {
 public:
  explicit Scope(Kind kind);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Kind kind_;
  bool counted_ = false;  // this scope was opened while timing was on
  bool timing_ = false;   // and it is the outermost one
  std::chrono::steady_clock::time_point start_;
};

}  // namespace remix::profile
