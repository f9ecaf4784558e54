// Sharding an epoch over the processes of data-parallel training, as PyTorch's
// DistributedSampler does it.
//
// The epoch order (a permutation seeded by (seed, epoch), the same on every process) is split
// by position: shard r of N takes positions r, r+N, r+2N, ... With padding (training), the order
// is first extended to a multiple of N by repeating its start, so that every shard has
// ceil(n / N) examples and every process runs the same number of steps (the collectives of a
// step need all of them); a few examples then appear twice in an epoch. Without padding
// (evaluation), the shards are disjoint and together exactly the set; their sizes differ by at
// most one.
//
// With this split, step k of N processes with batch B sees exactly the examples of step k of
// one process with batch N*B (positions N*B*k ... N*B*(k+1)-1 of the order), when n is a multiple
// of N.
#pragma once

#include <cstdint>
#include <vector>

namespace remix::data {

struct Shard {
  int64_t count = 1;  // N: the number of processes
  int64_t index = 0;  // r: this process's shard, in [0, N)
  bool pad = true;    // pad to equal shard sizes (training), or not (evaluation)
};

void check_shard(const Shard& shard);
// The number of examples of the shard of a set of `size` examples.
int64_t shard_size(int64_t size, const Shard& shard);
// The shard's part of `order` (the epoch order of the whole set), in order.
std::vector<int64_t> take_shard(const std::vector<int64_t>& order, const Shard& shard);

}  // namespace remix::data
