// The staging ring's bookkeeping (cuda/staging_ring.h): byte ranges in ring order and the event
// slots of the ranges whose copies may still be in flight.
#include "cuda/staging_ring.h"

#include "tensor/check.h"

namespace remix::cuda {

StagingRing::StagingRing(size_t capacity) : capacity_(capacity) {
  REMIX_CHECK(capacity > 0, "StagingRing: the capacity must be > 0");
}

StagingRing::Placement StagingRing::place(size_t bytes) {
  REMIX_CHECK(bytes >= 1 && bytes <= capacity_,
              "StagingRing: an upload of {} bytes does not fit a {}-byte ring in one piece", bytes,
              capacity_);
  if (head_ + bytes > capacity_) head_ = 0;  // the rest of the buffer stays unused this round
  const size_t begin = head_, end = head_ + bytes;
  // The newest range in flight that the new one overlaps: it and every older range leave the
  // ring. Waiting for the newest of them is enough (copies complete in stream order), but every
  // slot is reported, so that the caller can free them all.
  size_t leaving = 0;
  for (size_t i = 0; i < ranges_.size(); ++i)
    if (ranges_[i].begin < end && begin < ranges_[i].end) leaving = i + 1;
  Placement placement;
  placement.offset = begin;
  for (size_t i = 0; i < leaving; ++i) {
    placement.wait_for.push_back(ranges_.front().slot);
    free_slots_.push_back(ranges_.front().slot);
    ranges_.pop_front();
  }
  placement.slot = take_slot();
  ranges_.push_back({begin, end, placement.slot});
  head_ = end;
  return placement;
}

int StagingRing::take_slot() {
  if (free_slots_.empty()) return next_new_slot_++;
  const int slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

}  // namespace remix::cuda
