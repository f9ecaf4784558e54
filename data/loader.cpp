// DataLoader: epoch order, batch making, and the worker threads with their in-order slots.
#include "data/loader.h"

#include <cstring>
#include <numeric>
#include <system_error>

namespace remix::data {

namespace {
// Separate random streams for the epoch order and the per-batch augmentation.
constexpr uint64_t kOrderStream = 1;
constexpr uint64_t kAugmentStream = 2;
}  // namespace

DataLoader::DataLoader(Dataset dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  check_dataset(dataset_, "DataLoader");
  REMIX_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got {}",
              options_.batch_size);
  REMIX_CHECK(options_.workers >= 0 && options_.prefetch >= 1,
              "DataLoader: expected workers >= 0 and prefetch >= 1, got {} and {}",
              options_.workers, options_.prefetch);
  REMIX_CHECK(options_.crop_padding >= 0, "DataLoader: crop_padding must be >= 0, got {}",
              options_.crop_padding);
  check_shard(options_.shard);
  slots_.resize(static_cast<size_t>(options_.prefetch));
  try {
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  } catch (const std::system_error& e) {
    // The destructor does not run for a constructor that throws, and a joinable std::thread
    // destroyed unjoined ends the program: stop and join the workers that did start.
    const size_t started = workers_.size();
    stop_workers();
    throw_error(
        fmt::format("DataLoader: could not start worker thread {} of {} ({}); use fewer "
                    "loader threads",
                    started + 1, options_.workers, e.what()));
  }
}

DataLoader::~DataLoader() {
  stop_workers();
}

void DataLoader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

int64_t DataLoader::num_batches() const {
  const int64_t n = shard_size(dataset_.size(), options_.shard), b = options_.batch_size;
  // Not (n + b - 1) / b, which overflows for a batch size near the int64_t maximum.
  return n / b + (!options_.drop_last && n % b != 0 ? 1 : 0);
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  if (options_.shuffle) {
    Generator gen(derive_seed({options_.seed, kOrderStream, static_cast<uint64_t>(epoch)}));
    return take_shard(gen.permutation(dataset_.size()), options_.shard);
  }
  std::vector<int64_t> order(static_cast<size_t>(dataset_.size()));
  std::iota(order.begin(), order.end(), 0);
  return take_shard(order, options_.shard);
}

void DataLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  REMIX_CHECK(epoch >= 0, "DataLoader::start_epoch: epoch must be >= 0, got {}", epoch);
  REMIX_CHECK(first_batch >= 0 && first_batch <= num_batches(),
              "DataLoader::start_epoch: first batch {} is outside [0, {}]", first_batch,
              num_batches());
  std::vector<int64_t> order = epoch_order(epoch);
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    started_ = true;
    epoch_ = epoch;
    order_ = std::move(order);
    next_to_produce_ = next_to_consume_ = first_batch;
    end_ = num_batches();
    for (Slot& s : slots_) s = Slot{};
  }
  work_cv_.notify_all();
}

std::vector<int64_t> DataLoader::rows_of(int64_t index) const {
  const int64_t begin = index * options_.batch_size;
  const auto size = static_cast<int64_t>(order_.size());
  const int64_t end = begin + std::min(options_.batch_size, size - begin);
  return {order_.begin() + begin, order_.begin() + end};
}

Batch DataLoader::make_batch(int64_t epoch, int64_t index, const std::vector<int64_t>& rows) const {
  const auto n = static_cast<int64_t>(rows.size());
  Shape shape = dataset_.images.shape();
  shape[0] = n;
  const int64_t image_bytes = dataset_.images.numel() / dataset_.size();
  Batch batch{Tensor(shape, DType::u8), Tensor({n}, DType::i32), index, {}};
  const uint8_t* images = dataset_.images.data<uint8_t>();
  const int32_t* labels = dataset_.labels.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(batch.images.data<uint8_t>() + i * image_bytes, images + rows[i] * image_bytes,
                static_cast<size_t>(image_bytes));
    batch.labels.data<int32_t>()[i] = labels[rows[i]];
  }
  if (options_.augmentation != Augmentation::none) {
    Generator gen(derive_seed({options_.seed, kAugmentStream, static_cast<uint64_t>(epoch),
                               static_cast<uint64_t>(index)}));
    batch.crop_flip = draw_crop_flip(gen, n, options_.crop_padding);
    if (options_.augmentation == Augmentation::crop_flip)
      batch.images = crop_flip(batch.images, batch.crop_flip, options_.crop_padding);
  }
  if (options_.batch_transform) options_.batch_transform(batch);
  return batch;
}

bool DataLoader::can_produce() const {
  return started_ && next_to_produce_ < end_ &&
         next_to_produce_ < next_to_consume_ + options_.prefetch;
}

void DataLoader::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stopping_ || can_produce(); });
    if (stopping_) return;
    Slot slot;
    slot.index = next_to_produce_++;
    const uint64_t generation = generation_;
    const int64_t epoch = epoch_;
    const std::vector<int64_t> rows = rows_of(slot.index);
    lock.unlock();
    try {
      slot.batch = make_batch(epoch, slot.index, rows);
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
    if (generation != generation_) continue;  // the epoch was abandoned meanwhile
    slots_[slot.index % options_.prefetch] = std::move(slot);
    ready_cv_.notify_all();
  }
}

std::optional<Batch> DataLoader::next() {
  std::unique_lock lock(mutex_);
  REMIX_CHECK(started_, "DataLoader::next: call start_epoch(epoch) before asking for batches");
  if (next_to_consume_ >= end_) return std::nullopt;
  const int64_t index = next_to_consume_;
  if (workers_.empty()) {  // make the batch here
    next_to_consume_ = next_to_produce_ = index + 1;
    const int64_t epoch = epoch_;
    const std::vector<int64_t> rows = rows_of(index);
    lock.unlock();
    return make_batch(epoch, index, rows);
  }
  // next_to_consume_ moves on only once the slot is emptied, so no worker can claim the slot
  // (for batch index + prefetch) while this batch still sits in it.
  Slot& wanted = slots_[index % options_.prefetch];
  ready_cv_.wait(lock, [&] { return wanted.index == index; });
  Slot slot = std::move(wanted);
  wanted = Slot{};
  next_to_consume_ = index + 1;
  lock.unlock();
  work_cv_.notify_all();  // a slot is free: a worker may start the batch `prefetch` ahead
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

}  // namespace remix::data
