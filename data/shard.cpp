// Epoch shards (see shard.h).
#include "data/shard.h"

#include "tensor/check.h"

namespace remix::data {

void check_shard(const Shard& shard) {
  REMIX_CHECK(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count,
              "shard {} of {}: expected a shard index in [0, count) and a count >= 1", shard.index,
              shard.count);
}

int64_t shard_size(int64_t size, const Shard& shard) {
  check_shard(shard);
  if (shard.pad) return size == 0 ? 0 : (size + shard.count - 1) / shard.count;
  // Positions index, index + count, ... below size.
  return size > shard.index ? (size - shard.index + shard.count - 1) / shard.count : 0;
}

std::vector<int64_t> take_shard(const std::vector<int64_t>& order, const Shard& shard) {
  const auto size = static_cast<int64_t>(order.size());
  const int64_t taken = shard_size(size, shard);
  std::vector<int64_t> rows(static_cast<size_t>(taken));
  // Padding repeats the order from its start (more than once when size < count).
  for (int64_t i = 0; i < taken; ++i)
    rows[static_cast<size_t>(i)] =
        order[static_cast<size_t>((shard.index + i * shard.count) % size)];
  return rows;
}

}  // namespace remix::data
