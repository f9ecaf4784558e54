// DataLoader: batching, drop_last, per-epoch shuffling, determinism across worker counts and
// prefetch sizes, resuming mid-epoch, abandoning an epoch, prompt shutdown, worker errors.
#include "data/loader.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <limits>
#include <set>

#include "tests/data/data_test_support.h"
#include "tests/support/test_support.h"

namespace remix::data {
namespace {

using remix::testing::throws_error_with;

// n one-channel 4x4 images; image i is filled with the value i and has label i % 3, so a
// batch tells which images it holds.
Dataset numbered(int64_t n) {
  Dataset d;
  d.images = Tensor({n, 4, 4, 1}, DType::u8);
  d.labels = Tensor({n}, DType::i32);
  for (int64_t i = 0; i < n; ++i) {
    std::fill_n(d.images.data<uint8_t>() + i * 16, 16, static_cast<uint8_t>(i));
    d.labels.data<int32_t>()[i] = static_cast<int32_t>(i % 3);
  }
  d.num_classes = 3;
  d.class_names = {"a", "b", "c"};
  return d;
}

// Which image each row of the batch is (its first pixel), checking the labels agree.
std::vector<int64_t> ids(const Batch& b) {
  std::vector<int64_t> out;
  const std::vector<uint8_t> p = b.images.to_vector<uint8_t>();
  const std::vector<int32_t> labels = b.labels.to_vector<int32_t>();
  for (int64_t i = 0; i < b.images.size(0); ++i) {
    out.push_back(p[i * 16]);
    EXPECT_EQ(labels[i], p[i * 16] % 3);
  }
  return out;
}

LoaderOptions options(int64_t batch_size, int workers, int prefetch = 2) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.workers = workers;
  o.prefetch = prefetch;
  o.seed = 42;
  return o;
}

// Everything the loader hands out in one epoch (from `first` on), flattened for comparison.
struct Epoch {
  std::vector<int64_t> index;
  std::vector<std::vector<uint8_t>> images;
  std::vector<std::vector<int32_t>> offsets;
  std::vector<std::vector<uint8_t>> flips;
  bool operator==(const Epoch&) const = default;
};

Epoch run_epoch(DataLoader& loader, int64_t epoch, int64_t first = 0) {
  Epoch e;
  loader.start_epoch(epoch, first);
  while (std::optional<Batch> b = loader.next()) {
    e.index.push_back(b->index);
    e.images.push_back(b->images.to_vector<uint8_t>());
    if (b->crop_flip.offsets.defined()) {
      e.offsets.push_back(b->crop_flip.offsets.to_vector<int32_t>());
      e.flips.push_back(b->crop_flip.flips.to_vector<uint8_t>());
    }
  }
  return e;
}

TEST(DataLoader, CoversTheDatasetOnceWithAPartialLastBatch) {
  DataLoader loader(numbered(10), options(4, 2));
  EXPECT_EQ(loader.num_batches(), 3);
  loader.start_epoch(0);
  std::multiset<int64_t> seen;
  std::vector<int64_t> sizes, indices;
  while (std::optional<Batch> b = loader.next()) {
    const std::vector<int64_t> rows = ids(*b);
    seen.insert(rows.begin(), rows.end());
    sizes.push_back(b->images.size(0));
    indices.push_back(b->index);
    EXPECT_EQ(b->images.dtype(), DType::u8);
    EXPECT_EQ(b->labels.dtype(), DType::i32);
  }
  EXPECT_EQ(sizes, std::vector<int64_t>({4, 4, 2}));
  EXPECT_EQ(indices, std::vector<int64_t>({0, 1, 2}));
  EXPECT_EQ(seen, std::multiset<int64_t>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_FALSE(loader.next().has_value());  // and stays finished
}

TEST(DataLoader, DropLastDropsThePartialBatch) {
  LoaderOptions o = options(4, 1);
  o.drop_last = true;
  DataLoader loader(numbered(10), o);
  EXPECT_EQ(loader.num_batches(), 2);
  const Epoch e = run_epoch(loader, 0);
  EXPECT_EQ(e.index, std::vector<int64_t>({0, 1}));
  EXPECT_EQ(e.images[1].size(), 4u * 16);
}

TEST(DataLoader, KeepsTheDatasetOrderWithoutShuffle) {
  LoaderOptions o = options(3, 2);
  o.shuffle = false;
  DataLoader loader(numbered(7), o);
  loader.start_epoch(5);
  std::vector<int64_t> all;
  while (std::optional<Batch> b = loader.next()) {
    const std::vector<int64_t> rows = ids(*b);
    all.insert(all.end(), rows.begin(), rows.end());
  }
  EXPECT_EQ(all, std::vector<int64_t>({0, 1, 2, 3, 4, 5, 6}));
}

TEST(DataLoader, GivesTheSameBatchesWhateverTheWorkersAndPrefetch) {
  auto epochs = [](int workers, int prefetch) {
    LoaderOptions o = options(5, workers, prefetch);
    o.augmentation = Augmentation::draw_only;
    DataLoader loader(numbered(23), o);
    return std::vector<Epoch>{run_epoch(loader, 0), run_epoch(loader, 1)};
  };
  const std::vector<Epoch> reference = epochs(0, 1);
  ASSERT_EQ(reference[0].offsets.size(), 5u);  // the draws travel with each batch
  EXPECT_EQ(reference[0].offsets[4].size(), 3u * 2);
  for (int workers : {0, 1, 3})
    for (int prefetch : {1, 2, 5})
      EXPECT_TRUE(epochs(workers, prefetch) == reference)
          << workers << " workers, prefetch " << prefetch;
}

TEST(DataLoader, ShufflesEachEpochIndependentlyOfTheEpochsBefore) {
  DataLoader loader(numbered(40), options(8, 2));
  const Epoch zero = run_epoch(loader, 0);
  const Epoch one = run_epoch(loader, 1);
  EXPECT_NE(zero.images, one.images);
  DataLoader fresh(numbered(40), options(8, 3));
  EXPECT_EQ(run_epoch(fresh, 1), one);  // epoch 1 without epoch 0 before it
  LoaderOptions other_seed = options(8, 2);
  other_seed.seed = 43;
  DataLoader other(numbered(40), other_seed);
  EXPECT_NE(run_epoch(other, 0).images, zero.images);
}

TEST(DataLoader, StartingMidEpochGivesTheTailOfTheFullEpoch) {
  LoaderOptions o = options(4, 2);
  o.augmentation = Augmentation::draw_only;
  DataLoader loader(numbered(18), o);
  const Epoch full = run_epoch(loader, 3);
  const Epoch tail = run_epoch(loader, 3, 2);
  ASSERT_EQ(tail.index, std::vector<int64_t>({2, 3, 4}));
  EXPECT_EQ(tail.images,
            std::vector<std::vector<uint8_t>>(full.images.begin() + 2, full.images.end()));
  EXPECT_EQ(tail.offsets,
            std::vector<std::vector<int32_t>>(full.offsets.begin() + 2, full.offsets.end()));
  EXPECT_TRUE(run_epoch(loader, 3, loader.num_batches()).index.empty());
  EXPECT_THROW(loader.start_epoch(3, loader.num_batches() + 1), Error);
}

TEST(DataLoader, StartingANewEpochAbandonsTheOneInProgress) {
  DataLoader reference_loader(numbered(60), options(4, 0));
  const Epoch reference = run_epoch(reference_loader, 1);
  DataLoader loader(numbered(60), options(4, 3, 3));
  loader.start_epoch(0);
  ASSERT_TRUE(loader.next().has_value());  // workers are now busy with epoch 0
  EXPECT_EQ(run_epoch(loader, 1), reference);
}

TEST(DataLoader, StopsPromptlyWhenDestroyedWithWorkersWaitingForRoom) {
  auto loader = std::make_unique<DataLoader>(numbered(200), options(2, 3, 2));
  loader->start_epoch(0);
  ASSERT_TRUE(loader->next().has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the workers fill the slots
  std::packaged_task<void()> destroy([&loader] { loader.reset(); });
  std::future<void> done = destroy.get_future();
  std::thread destroyer(std::move(destroy));
  if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    destroyer.detach();  // the loader hangs: report it rather than hang the suite
    FAIL() << "destroying the loader did not return within 10 s";
  }
  destroyer.join();
}

TEST(DataLoader, PassesAWorkerExceptionToTheConsumer) {
  for (int workers : {0, 2}) {
    LoaderOptions o = options(2, workers);
    o.batch_transform = [](Batch& b) {
      if (b.index == 2) throw Error("cannot make batch 2");
    };
    DataLoader loader(numbered(10), o);
    loader.start_epoch(0);
    EXPECT_TRUE(loader.next().has_value());
    EXPECT_TRUE(loader.next().has_value());
    EXPECT_TRUE(throws_error_with([&] { loader.next(); }, {"cannot make batch 2"})) << workers;
    const std::optional<Batch> after = loader.next();  // the epoch goes on after the error
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->index, 3);
  }
}

TEST(DataLoader, AppliesCropAndFlipInTheWorkers) {
  LoaderOptions o = options(4, 2);
  o.augmentation = Augmentation::crop_flip;
  o.crop_padding = 2;
  DataLoader loader(numbered(10), o);
  LoaderOptions plain = o;
  plain.augmentation = Augmentation::draw_only;
  DataLoader unaugmented(numbered(10), plain);
  loader.start_epoch(0);
  unaugmented.start_epoch(0);
  while (std::optional<Batch> b = loader.next()) {
    const std::optional<Batch> raw = unaugmented.next();
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(b->crop_flip.offsets.to_vector<int32_t>(),
              raw->crop_flip.offsets.to_vector<int32_t>());
    EXPECT_EQ(b->images.to_vector<uint8_t>(),
              crop_flip(raw->images, raw->crop_flip, 2).to_vector<uint8_t>());
  }
}

TEST(DataLoader, RejectsMisuse) {
  DataLoader loader(numbered(4), options(2, 1));
  EXPECT_TRUE(throws_error_with([&] { loader.next(); }, {"start_epoch"}));
  EXPECT_THROW(DataLoader(numbered(4), options(0, 1)), Error);
  EXPECT_THROW(DataLoader(numbered(4), options(2, 1, 0)), Error);
  Dataset bad = numbered(4);
  bad.labels.data<int32_t>()[2] = 3;
  EXPECT_TRUE(throws_error_with([&] { DataLoader(bad, options(2, 1)); }, {"label 3", "[0, 3)"}));
}

TEST(DataLoader, ABatchSizeNearTheIntegerLimitMakesOneBatchOfEverything) {
  DataLoader loader(numbered(5), options(std::numeric_limits<int64_t>::max(), 0));
  EXPECT_EQ(loader.num_batches(), 1);
  EXPECT_EQ(run_epoch(loader, 0).images.at(0).size(), 5u * 16);
}

// Address space bounded in a child process, so that thread stacks cannot be mapped: starting
// the workers fails, which must be an Error (the program prints it and exits with 1), not the
// std::terminate of a joinable std::thread destroyed during unwinding.
TEST(DataLoader, AWorkerThatCannotStartIsAnErrorNotAnAbort) {
  if (REMIX_WITH_ASAN)
    GTEST_SKIP() << "AddressSanitizer reserves the address space this test bounds";
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    const rlim_t room = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + (64 << 20);
    const rlimit limit{room, room};
    setrlimit(RLIMIT_AS, &limit);
    try {
      DataLoader loader(numbered(4), options(2, 64));  // 64 stacks of 8 MiB do not fit
      _exit(3);
    } catch (const Error& e) {
      _exit(std::string(e.what()).find("could not start worker thread") != std::string::npos ? 0
                                                                                             : 4);
    } catch (...) {
      _exit(5);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: no error, 4: another message, 5: not an Error";
}

}  // namespace
}  // namespace remix::data
