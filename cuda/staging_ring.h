// The bookkeeping of the pinned staging buffer that uploads go through (cuda/memory.cpp), kept
// apart from CUDA so that it is tested on any machine (tests/cuda/staging_ring_test.cpp).
//
// An upload copies the caller's bytes into the buffer, queues the device copy out of it and
// records an event after that copy. Uploads take consecutive byte ranges, each only as large as
// it needs, wrapping at the end of the buffer; so the dozen small uploads of a training step
// (images, crop offsets, flips, labels, boxes) take a few hundred KiB of a buffer of many MiB,
// and the host waits for an earlier copy only when the ring comes round to a range whose copy
// may still be in flight, which at the buffer sizes used happens only after many steps.
//
// Events are not created here: each range in flight holds a slot number, which the caller maps
// to its own event (creating one the first time a slot number appears).
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

namespace remix::cuda {

class StagingRing {
 public:
  explicit StagingRing(size_t capacity);

  struct Placement {
    size_t offset = 0;          // where the upload's bytes go in the buffer
    int slot = 0;               // the event slot to record after the device copy
    std::vector<int> wait_for;  // slots whose copies must finish first, oldest first
  };

  // Places an upload of `bytes` (1 <= bytes <= capacity). The ranges it overlaps leave the ring:
  // the caller waits for their slots' events (in wait_for) before writing, and their slot numbers
  // are free again for later placements.
  Placement place(size_t bytes);

  size_t capacity() const { return capacity_; }
  size_t in_flight() const { return ranges_.size(); }   // ranges whose copies may still run
  int slots_created() const { return next_new_slot_; }  // distinct slot numbers handed out

 private:
  struct Range {
    size_t begin, end;  // [begin, end) of the buffer
    int slot;
  };
  int take_slot();

  size_t capacity_;
  size_t head_ = 0;           // where the next upload starts unless it must wrap
  std::deque<Range> ranges_;  // in flight, in the order they were placed
  std::vector<int> free_slots_;
  int next_new_slot_ = 0;
};

}  // namespace remix::cuda
