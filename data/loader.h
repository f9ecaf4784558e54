// DataLoader: batches of a Dataset, shuffled per epoch and optionally augmented (random crop and
// flip), produced by worker threads ahead of the training loop.
//
//   DataLoader loader(train_set, {.batch_size = 128, .augmentation = Augmentation::crop_flip});
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     loader.start_epoch(epoch);
//     while (std::optional<Batch> batch = loader.next()) train_step(batch->images, batch->labels);
//   }
//
// Reproducibility: epoch e's order comes from a generator seeded by (seed, e), and the crop/flip
// of batch b in epoch e from one seeded by (seed, e, b). A batch's content therefore depends
// only on the seed, the epoch and its index: not on the number of workers, on timing, or on
// which epochs ran before. With a shard (several processes), the epoch order is the same on
// every process and each takes its positions of it (data/shard.h). start_epoch(e, k) resumes an
// epoch at batch k, giving exactly the batches k, k+1, ... of a full run of epoch e.
//
// Threads: each worker takes the next batch index to produce and writes the batch into slot
// (index % prefetch); the consumer waits for the slot of the batch it wants, so batches come
// out in order, at most `prefetch` ahead of the consumer. start_epoch() abandons the epoch in
// progress (workers drop what they were making) and the destructor stops and joins the workers.
// An exception thrown while making a batch is rethrown by the next() that asks for that batch.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "data/dataset.h"
#include "data/shard.h"
#include "data/transforms.h"

namespace remix::data {

enum class Augmentation {
  none,       // images as stored
  crop_flip,  // random crop with zero padding and random flip, done by the workers
  draw_only,  // crop/flip drawn but not applied: the batch carries the draws for the device
};

struct Batch {
  Tensor images;       // u8 N x H x W x C, CPU (cropped and flipped under crop_flip)
  Tensor labels;       // i32 N
  int64_t index = 0;   // position of the batch in its epoch
  CropFlip crop_flip;  // the draws of this batch (defined unless augmentation is none)
};

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  uint64_t seed = 0;
  Augmentation augmentation = Augmentation::none;
  int64_t crop_padding = 4;
  int workers = 2;   // threads making batches; 0 makes them in next(), in the calling thread
  int prefetch = 4;  // batches made ahead of the consumer, at least 1
  // Data-parallel training: each epoch yields only this process's shard of the epoch order
  // (data/shard.h); batches are cut from the shard. The default is the whole epoch.
  Shard shard = {};
  // An optional last step on each batch, run in the thread that makes it (e.g. normalising on
  // the CPU path); it must be safe to call from several threads at once.
  std::function<void(Batch&)> batch_transform = {};
};

class DataLoader {
 public:
  DataLoader(Dataset dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t num_batches() const;
  const Dataset& dataset() const { return dataset_; }
  const LoaderOptions& options() const { return options_; }

  // Begins epoch `epoch` at batch `first_batch` (0 for a whole epoch, k to resume), abandoning
  // any epoch in progress.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the epoch, or nullopt once all were handed out.
  std::optional<Batch> next();

 private:
  struct Slot {
    int64_t index = -1;  // the batch it holds, -1 when empty
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  std::vector<int64_t> epoch_order(int64_t epoch) const;
  std::vector<int64_t> rows_of(int64_t index) const;  // under mutex_
  Batch make_batch(int64_t epoch, int64_t index, const std::vector<int64_t>& rows) const;
  bool can_produce() const;  // under mutex_
  void worker_loop();
  void stop_workers();  // asks every worker to end and joins it

  const Dataset dataset_;
  const LoaderOptions options_;

  std::mutex mutex_;
  std::condition_variable work_cv_;   // workers wait here for room, a new epoch, or the end
  std::condition_variable ready_cv_;  // the consumer waits here for its batch
  // Guarded by mutex_.
  bool started_ = false;
  bool stopping_ = false;
  uint64_t generation_ = 0;  // counts start_epoch() calls: batches of older epochs are dropped
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
  int64_t next_to_produce_ = 0, next_to_consume_ = 0, end_ = 0;
  std::vector<Slot> slots_;

  std::vector<std::thread> workers_;  // last: started once everything above exists
};

}  // namespace remix::data
