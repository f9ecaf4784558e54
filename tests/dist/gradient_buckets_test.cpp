// Gradient buckets (dist/gradient_buckets.h): the layout (reverse registration order, the size
// cap, one dtype per bucket) and averaging in a single process, which leaves gradients as they
// are; the collectives of several processes are tested under mpirun (tests/dist/mpirun/).
#include "dist/gradient_buckets.h"

#include <gtest/gtest.h>

namespace remix::dist {
namespace {

std::vector<Tensor> f32_tensors(const std::vector<int64_t>& sizes) {
  std::vector<Tensor> tensors;
  for (int64_t n : sizes) tensors.push_back(Tensor::zeros({n}, DType::f32, Device::cpu()));
  return tensors;
}

TEST(GradientBuckets, BucketsFollowTheReverseOrderOfRegistration) {
  const std::vector<Bucket> buckets = plan_buckets(f32_tensors({4, 4, 4}), 1024);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0], (Bucket{2, 1, 0}));
}

TEST(GradientBuckets, ABucketIsClosedBeforeItWouldExceedTheCap) {
  // 40-byte cap: 6 floats (24 bytes) + 4 floats (16 bytes) fit; the next 4 start a new bucket.
  const std::vector<Bucket> buckets = plan_buckets(f32_tensors({2, 4, 4, 6}), 40);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0], (Bucket{3, 2}));
  EXPECT_EQ(buckets[1], (Bucket{1, 0}));
}

TEST(GradientBuckets, AGradientLargerThanTheCapGetsABucketOfItsOwn) {
  const std::vector<Bucket> buckets = plan_buckets(f32_tensors({1, 100, 1}), 16);
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[1], (Bucket{1}));
}

TEST(GradientBuckets, EveryGradientIsInExactlyOneBucket) {
  const std::vector<Bucket> buckets = plan_buckets(f32_tensors({3, 9, 1, 7, 2, 8, 5}), 32);
  std::vector<int> times(7, 0);
  for (const Bucket& b : buckets)
    for (size_t i : b) ++times[i];
  EXPECT_EQ(times, std::vector<int>(7, 1));
}

TEST(GradientBuckets, ADtypeChangeStartsANewBucket) {
  std::vector<Tensor> tensors = f32_tensors({2});
  tensors.push_back(Tensor::zeros({2}, DType::i32, Device::cpu()));
  tensors.push_back(Tensor::zeros({2}, DType::i32, Device::cpu()));
  const std::vector<Bucket> buckets = plan_buckets(tensors, 1 << 20);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0], (Bucket{2, 1}));
  EXPECT_EQ(buckets[1], (Bucket{0}));
}

TEST(GradientBuckets, AnUndefinedGradientIsRefused) {
  std::vector<Tensor> tensors = f32_tensors({2});
  tensors.emplace_back();
  EXPECT_THROW(plan_buckets(tensors, 64), Error);
}

TEST(SingleProcess, AveragingLeavesGradientsUnchanged) {
  const std::shared_ptr<Communicator> single = single_process_communicator();
  std::vector<Tensor> gradients = {Tensor::from_vector<float>({1.5f, -2.0f}, {2})};
  average_gradients(*single, gradients);
  EXPECT_EQ(gradients[0].to_vector<float>(), (std::vector<float>{1.5f, -2.0f}));
  std::vector<double> values = {3.0};
  single->sum(values);
  EXPECT_EQ(values, std::vector<double>{3.0});
  EXPECT_EQ(single->world_size(), 1);
  EXPECT_TRUE(single->is_root());
}

TEST(LaunchEnvironment, ReadsTheRankAndSizeThatOpenMpisLauncherSets) {
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  setenv("OMPI_COMM_WORLD_RANK", "2", 1);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "0", 1);
  const LaunchEnvironment env = launch_environment();
  unsetenv("OMPI_COMM_WORLD_SIZE");
  unsetenv("OMPI_COMM_WORLD_RANK");
  unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.rank, 2);
  EXPECT_EQ(env.local_rank, 0);
}

TEST(LaunchEnvironment, IsOneProcessWithoutALauncher) {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE"))
    GTEST_SKIP() << "this test runs under a launcher";
  EXPECT_EQ(launch_environment().world_size, 1);
  EXPECT_EQ(world_communicator()->world_size(), 1);  // and MPI is not initialised
}

}  // namespace
}  // namespace remix::dist
