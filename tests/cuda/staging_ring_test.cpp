// The staging ring's bookkeeping (cuda/staging_ring.h), which needs no GPU: where uploads go,
// which earlier copies an upload must wait for, and that a training step's uploads do not wait.
#include "cuda/staging_ring.h"

#include <gtest/gtest.h>

#include <vector>

#include "tensor/check.h"

namespace remix::cuda {
namespace {

TEST(StagingRing, PlacesUploadsOneAfterTheOtherWithoutWaiting) {
  StagingRing ring(100);
  const StagingRing::Placement a = ring.place(30), b = ring.place(50), c = ring.place(20);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(b.offset, 30u);
  EXPECT_EQ(c.offset, 80u);
  EXPECT_TRUE(a.wait_for.empty() && b.wait_for.empty() && c.wait_for.empty());
  EXPECT_EQ(ring.in_flight(), 3u);
  EXPECT_EQ(ring.slots_created(), 3);
}

TEST(StagingRing, WrapsAndWaitsOnlyForTheRangesItOverwrites) {
  StagingRing ring(100);
  const int a = ring.place(40).slot, b = ring.place(40).slot;
  const StagingRing::Placement c = ring.place(30);  // 80 + 30 > 100: back to 0, over a
  EXPECT_EQ(c.offset, 0u);
  EXPECT_EQ(c.wait_for, std::vector<int>{a});
  EXPECT_EQ(c.slot, a);  // a's slot is free again once its copy is waited for
  const StagingRing::Placement d = ring.place(10);  // [30, 40): free since a left
  EXPECT_EQ(d.offset, 30u);
  EXPECT_TRUE(d.wait_for.empty());
  const StagingRing::Placement e = ring.place(20);  // [40, 60): over b
  EXPECT_EQ(e.wait_for, std::vector<int>{b});
  EXPECT_EQ(ring.slots_created(), 3);
}

// After a wrap, older ranges may sit in the skipped tail; an upload that overlaps a newer range
// releases the older ones too (copies finish in stream order).
TEST(StagingRing, ReleasesOlderRangesBeforeANewerOneItOverlaps) {
  StagingRing ring(100);
  const int a = ring.place(60).slot;
  const int tail = ring.place(40).slot;                 // [60, 100)
  const StagingRing::Placement newer = ring.place(50);  // wraps over a: [0, 50)
  EXPECT_EQ(newer.wait_for, std::vector<int>{a});
  const StagingRing::Placement d = ring.place(55);  // 50 + 55 > 100: wraps to [0, 55)
  EXPECT_EQ(d.offset, 0u);
  // [0, 55) misses the tail range [60, 100) but overlaps the newer [0, 50): both leave.
  EXPECT_EQ(d.wait_for, (std::vector<int>{tail, newer.slot}));
  EXPECT_EQ(ring.in_flight(), 1u);
}

TEST(StagingRing, AWholeRingUploadWaitsForEverythingInFlight) {
  StagingRing ring(64);
  ring.place(10);
  ring.place(20);
  const StagingRing::Placement all = ring.place(64);
  EXPECT_EQ(all.offset, 0u);
  EXPECT_EQ(all.wait_for.size(), 2u);
  EXPECT_EQ(ring.in_flight(), 1u);
}

TEST(StagingRing, RejectsUploadsThatDoNotFitInOnePiece) {
  StagingRing ring(64);
  EXPECT_THROW(ring.place(65), Error);
  EXPECT_THROW(ring.place(0), Error);
}

// The uploads of a RecursiveMix step on CIFAR (batch 128): images, crop offsets, flips, labels,
// the box and the ROI boxes. With the 16 MiB ring, no upload of 20 consecutive steps waits for a
// copy of the step before it, and the ring comes round only after dozens of steps.
TEST(StagingRing, TwentyTrainingStepsWaitForNoCopyOfTheStepBefore) {
  const std::vector<size_t> step = {128 * 32 * 32 * 3, 128 * 2 * 4, 128,
                                    128 * 4,           4 * 4,       128 * 5 * 4};
  StagingRing ring(size_t{16} << 20);
  std::vector<int> previous_step_slots;
  for (int s = 0; s < 20; ++s) {
    std::vector<int> slots;
    for (size_t bytes : step) {
      const StagingRing::Placement p = ring.place(bytes);
      for (int waited : p.wait_for)
        for (int recent : previous_step_slots) EXPECT_NE(waited, recent) << "step " << s;
      slots.push_back(p.slot);
    }
    previous_step_slots = slots;
  }
  EXPECT_EQ(ring.in_flight(), 20u * step.size());  // nothing had to be waited for yet
}

}  // namespace
}  // namespace remix::cuda
