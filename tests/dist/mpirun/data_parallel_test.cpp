// Run under `mpirun -np 2` (tests/dist/mpirun/CMakeLists.txt): the collectives of the MPI
// communicator, and data-parallel training against one process. Every test is collective:
// both ranks run it, in the same order.
//
// TwoRanksWithBatchBEndWithTheWeightsOfOneProcessWithBatch2B: a network without batch norm
// (per-rank statistics would differ from the whole batch's), no augmentation, no crop/flip, a
// mean-reduced loss, 4 SGD steps. Rank r's step-k batch is positions r, r+2, ... of the
// single process's step-k batch (data/shard.h), and the averaged gradient of two means over B is
// the mean over 2B, so the weights agree up to the order of floating-point sums: within 1e-6
// relative to max(1, |w|) (measured: 4.5e-8). One process with batch B alone ends more than
// 1e-3 away (measured: 0.05), and two ranks that skip the averaging 0.08: the tolerance tells
// the runs apart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "apps/trainer.h"
#include "autograd/ops.h"
#include "dist/gradient_buckets.h"
#include "nn/models/classifier.h"
#include "tensor/backend.h"
#include "tensor/primitives.h"

namespace remix::app {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<dist::Communicator> world() {
  static const std::shared_ptr<dist::Communicator> communicator = dist::world_communicator();
  return communicator;
}

// Two strided 3x3 convolutions with ReLU, no batch norm, and the heads.
class PlainNet : public nn::Classifier {
 public:
  PlainNet(int64_t num_classes, Generator& gen) : Classifier("PlainNet") {
    conv1_ = register_module("conv1", nn::make_conv(3, 8, 3, 2, gen));
    conv2_ = register_module("conv2", nn::make_conv(8, 16, 3, 2, gen));
    add_heads(16, num_classes, gen);
  }
  Tensor features(const Tensor& x) override {
    return relu(conv2_->forward(relu(conv1_->forward(x))));
  }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
};

std::shared_ptr<nn::Classifier> make_plain_net(const TrainConfig& config, int64_t classes) {
  Generator gen(stream_seed(config.seed, RandomStream::model_init));
  return std::make_shared<PlainNet>(classes, gen);
}

// A directory every rank names alike: rank 0 makes it and broadcasts its path.
fs::path shared_directory(const std::string& name) {
  std::vector<uint8_t> bytes;
  if (world()->is_root()) {
    const fs::path dir =
        fs::temp_directory_path() / fmt::format("remix-dist-{}-{}", name, getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string text = dir.string();
    bytes.assign(text.begin(), text.end());
  }
  world()->broadcast(bytes, 0);
  return std::string(bytes.begin(), bytes.end());
}

TrainConfig plain_config(const fs::path& out, int64_t batch_size) {
  TrainConfig config;
  config.data = "synthetic";
  config.synthetic_train = 256;
  config.synthetic_test = 50;  // odd split: 25 per rank
  config.crop_flip = false;
  config.aug = "none";
  config.epochs = 1;
  config.max_steps_per_epoch = 4;
  config.batch_size = batch_size;
  config.lr = 0.1;
  config.device = "cpu";
  config.threads = 0;
  config.compute_threads = 1;
  config.out = out.string();
  resolve_config(config);
  return config;
}

struct TrainedRun {
  nn::NamedTensors weights;
  EpochMetrics metrics;
};

TrainedRun train(const TrainConfig& config, std::shared_ptr<dist::Communicator> communicator) {
  TrainerHooks hooks;
  hooks.out = std::fopen("/dev/null", "w");
  hooks.make_model = make_plain_net;
  hooks.communicator = std::move(communicator);
  Trainer trainer(config, hooks);
  const TrainResult result = trainer.run();
  std::fclose(hooks.out);
  EXPECT_EQ(result.outcome, TrainOutcome::finished) << result.message;
  EXPECT_EQ(result.epochs.size(), 1u);
  return {trainer.model().named_parameters(), result.epochs.at(0)};
}

// The largest |a - b| / max(1, |b|) over every weight.
double largest_difference(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  double worst = 0;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const std::vector<float> x = a[i].second.to_vector<float>(), y = b[i].second.to_vector<float>();
    for (size_t j = 0; j < x.size(); ++j)
      worst =
          std::max(worst, std::abs(double{x[j]} - y[j]) / std::max(1.0, std::abs(double{y[j]})));
  }
  return worst;
}

TEST(MpiCommunicator, RunsAsTwoRanksOfOneJob) {
  ASSERT_EQ(world()->world_size(), 2) << "run this program with mpirun -np 2";
  EXPECT_EQ(world()->local_rank(), world()->rank());  // one machine
}

TEST(MpiCommunicator, AveragesTensorsAndSumsHostValuesOverTheRanks) {
  const auto r = static_cast<float>(world()->rank());
  std::vector<Tensor> tensors = {Tensor::from_vector<float>({r, 10 * r, 1}, {3}),
                                 Tensor::from_vector<float>({-r}, {1})};
  dist::average_gradients(*world(), tensors, 4);  // 4-byte buckets: one call per tensor
  EXPECT_EQ(tensors[0].to_vector<float>(), (std::vector<float>{0.5f, 5.0f, 1.0f}));
  EXPECT_EQ(tensors[1].to_vector<float>(), (std::vector<float>{-0.5f}));
  std::vector<double> values = {1.0, double{r}};
  world()->sum(values);
  EXPECT_EQ(values, (std::vector<double>{2.0, 1.0}));
}

// Started averages (MPI_Iallreduce) finish at wait_all, in any number, with the same result.
TEST(MpiCommunicator, StartedAveragesAreDoneAfterWaitAll) {
  const auto r = static_cast<float>(world()->rank());
  std::vector<Tensor> first = {Tensor::from_vector<float>({r, 1}, {2})};
  std::vector<Tensor> second = {Tensor::from_vector<float>({4 * r}, {1}),
                                Tensor::from_vector<float>({-r, 2 * r, 6}, {3})};
  world()->start_average(first);
  world()->start_average(second);
  world()->wait_all();
  EXPECT_EQ(first[0].to_vector<float>(), (std::vector<float>{0.5f, 1.0f}));
  EXPECT_EQ(second[0].to_vector<float>(), (std::vector<float>{2.0f}));
  EXPECT_EQ(second[1].to_vector<float>(), (std::vector<float>{-0.5f, 1.0f, 6.0f}));
}

TEST(MpiCommunicator, GathersEveryRanksBytesOnTheRoot) {
  const auto r = static_cast<uint8_t>(world()->rank());
  const std::vector<std::vector<uint8_t>> all =
      world()->gather(std::vector<uint8_t>(r + 1u, static_cast<uint8_t>(7 + r)), 0);
  if (world()->is_root())
    EXPECT_EQ(all, (std::vector<std::vector<uint8_t>>{{7}, {8, 8}}));
  else
    EXPECT_TRUE(all.empty());
}

TEST(MpiCommunicator, BroadcastsTheRootsBytes) {
  std::vector<uint8_t> bytes(world()->is_root() ? 3 : 7, static_cast<uint8_t>(world()->rank()));
  world()->broadcast(bytes, 0);
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0, 0, 0}));
}

TEST(DataParallel, TwoRanksWithBatchBEndWithTheWeightsOfOneProcessWithBatch2B) {
  const fs::path dir = shared_directory("match");
  const TrainedRun two_ranks = train(plain_config(dir / "two-ranks", 8), world());
  // Each rank trains the references alone, in its own directories.
  const fs::path own = dir / fmt::format("rank{}", world()->rank());
  const auto single = dist::single_process_communicator();
  const TrainedRun batch_2b = train(plain_config(own / "batch16", 16), single);
  const TrainedRun batch_b = train(plain_config(own / "batch8", 8), single);

  const double two_ranks_to_2b = largest_difference(two_ranks.weights, batch_2b.weights);
  const double batch_b_to_2b = largest_difference(batch_b.weights, batch_2b.weights);
  std::printf("rank %d: largest weight difference to batch 2B: 2 ranks %.3g, batch B %.3g\n",
              world()->rank(), two_ranks_to_2b, batch_b_to_2b);
  EXPECT_LE(two_ranks_to_2b, 1e-6);
  EXPECT_GT(batch_b_to_2b, 1e-3);
  EXPECT_NEAR(two_ranks.metrics.train_loss, batch_2b.metrics.train_loss, 1e-5);
  EXPECT_NEAR(two_ranks.metrics.test_loss, batch_2b.metrics.test_loss, 1e-4);
  EXPECT_NEAR(two_ranks.metrics.test_top1, batch_2b.metrics.test_top1, 1.0 / 50);
  // Rank 0 alone wrote the run's files.
  EXPECT_TRUE(fs::exists(dir / "two-ranks" / "metrics.jsonl"));
  std::vector<double> done = {1};
  world()->sum(done);  // rank 1 has checked before rank 0 removes the directory
  if (world()->is_root()) fs::remove_all(dir);
}

// Rank 0 writes a checkpoint after the other ranks have returned from the save, so a resume in
// the same process must wait for it. To make that wait necessary, not a matter of timing, rank 0
// moves the run away, lets the others go on to resume(), and puts it back 300 ms later.
void hold_back_the_run_on_rank_0(const fs::path& run) {
  const fs::path away = run.string() + ".away";
  if (world()->is_root()) fs::rename(run, away);
  std::vector<double> moved = {1};
  world()->sum(moved);
  if (!world()->is_root()) return;
  usleep(300'000);
  fs::rename(away, run);
}

// Ctrl-C on rank 0 alone stops both ranks at the same step (the stop request is reduced); the
// RecursiveMix run resumed from rank 0's checkpoint ends with the weights of an uninterrupted
// run (each rank gets back its own history), and with its metrics up to the order of float sums
// (the saved running sums are both ranks'). Both ranks resume while rank 0's run is held back
// (hold_back_the_run_on_rank_0).
TEST(DataParallel, AStopOnOneRankStopsBothAndTheResumedRunMatchesAnUninterruptedOne) {
  const fs::path dir = shared_directory("resume");
  TrainConfig config = plain_config(dir / "whole", 8);
  config.aug = "rm";
  config.epochs = 2;
  config.max_steps_per_epoch = 6;
  config.crop_flip = true;
  const auto run = [&](const fs::path& out, int64_t stop_after_checks, bool resume) {
    config.out = out.string();
    TrainerHooks hooks;
    hooks.out = std::fopen("/dev/null", "w");
    hooks.make_model = make_plain_net;
    hooks.communicator = world();
    int64_t checks = 0;
    if (stop_after_checks >= 0 && world()->is_root())
      hooks.stop_requested = [&checks, stop_after_checks] { return ++checks > stop_after_checks; };
    Trainer trainer(config, hooks);
    if (resume) trainer.resume(trainer.last_checkpoint());
    TrainResult result = trainer.run();
    std::fclose(hooks.out);
    return std::make_pair(result, trainer.model().named_parameters());
  };
  const auto [whole, whole_weights] = run(dir / "whole", -1, false);
  const auto [stopped, stopped_weights] = run(dir / "parts", 9, false);  // epoch 2, batch 3
  EXPECT_EQ(stopped.outcome, TrainOutcome::interrupted);
  EXPECT_EQ(stopped.epochs.size(), 1u);
  hold_back_the_run_on_rank_0(dir / "parts");
  const auto [resumed, resumed_weights] = run(dir / "parts", -1, true);
  ASSERT_EQ(resumed.outcome, TrainOutcome::finished) << resumed.message;
  ASSERT_EQ(whole.epochs.size(), 2u);
  ASSERT_EQ(resumed.epochs.size(), 1u);
  EXPECT_EQ(largest_difference(resumed_weights, whole_weights), 0.0);
  EXPECT_NEAR(resumed.epochs[0].train_loss, whole.epochs[1].train_loss, 1e-5);
  EXPECT_NEAR(resumed.epochs[0].train_top1, whole.epochs[1].train_top1, 1e-9);
  EXPECT_NEAR(resumed.epochs[0].test_loss, whole.epochs[1].test_loss, 1e-9);
  std::vector<double> done = {1};
  world()->sum(done);
  if (world()->is_root()) fs::remove_all(dir);
}

// Ranks that resume from checkpoints of different steps would run collectives that no longer
// match (a crash or a hang inside MPI); resume() stops all of them with a message instead.
TEST(DataParallel, RanksThatLoadCheckpointsOfDifferentStepsAllStopWithAMessage) {
  const fs::path dir = shared_directory("steps");
  const auto trained = [&](const std::string& name, int64_t steps) {
    TrainConfig config = plain_config(dir / name, 8);
    config.max_steps_per_epoch = steps;
    train(config, world());
    return config;
  };
  const TrainConfig two_steps = trained("two", 2), three_steps = trained("three", 3);
  TrainerHooks hooks;
  hooks.out = std::fopen("/dev/null", "w");
  hooks.make_model = make_plain_net;
  hooks.communicator = world();
  Trainer trainer(world()->is_root() ? two_steps : three_steps, hooks);
  try {
    trainer.resume(trainer.last_checkpoint());
    ADD_FAILURE() << "rank " << world()->rank() << " resumed from a step the other rank lacks";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the ranks loaded checkpoints of different steps"),
              std::string::npos)
        << e.what();
  }
  std::fclose(hooks.out);
  std::vector<double> done = {1};
  world()->sum(done);
  if (world()->is_root()) fs::remove_all(dir);
}

TEST(DataParallel, GpuGradientsAreAveragedWithNcclOnTwoGpus) {
  if (!dist::built_with_nccl())
    GTEST_SKIP() << "this build has no NCCL (CUDA backend, MPI and NCCL)";
  if (cuda_device_count() < 2) GTEST_SKIP() << "fewer than 2 GPUs: " << cuda_device_count();
  const Device gpu = Device::cuda(world()->local_rank());
  const std::shared_ptr<dist::Communicator> nccl = dist::communicator_for_device(world(), gpu);
  const auto r = static_cast<float>(world()->rank());
  const std::vector<float> values = {r, 3 * r + 1, -2 * r};
  std::vector<Tensor> on_gpu = {Tensor::from_vector<float>(values, {3}).to(gpu)};
  std::vector<Tensor> on_cpu = {Tensor::from_vector<float>(values, {3})};
  dist::average_gradients(*nccl, on_gpu);
  dist::average_gradients(*world(), on_cpu);
  EXPECT_EQ(on_gpu[0].to(Device::cpu()).to_vector<float>(), on_cpu[0].to_vector<float>());
  // Started on the side stream, then ordered before later work on the compute stream.
  std::vector<Tensor> started = {Tensor::from_vector<float>(values, {3}).to(gpu)};
  nccl->start_average(started);
  nccl->wait_all();
  const Tensor doubled = prim::binary_scalar(BinaryOp::mul, started[0], 2.0);  // compute stream
  std::vector<float> expected = on_cpu[0].to_vector<float>();
  for (float& v : expected) v *= 2;
  EXPECT_EQ(doubled.to(Device::cpu()).to_vector<float>(), expected);
}

}  // namespace
}  // namespace remix::app
