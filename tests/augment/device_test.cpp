// On a GPU, every augmentation gives the batch the CPU gives from the same draws, keeps what it
// makes on the GPU, and the loss of a mixed batch agrees with the CPU's (skipped without a GPU).
#include <gtest/gtest.h>

#include "augment/loss.h"
#include "augment/registry.h"
#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

constexpr int64_t kN = 4, kSide = 8, kC = 3, kK = 5;

void expect_same_batch(const MixedBatch& gpu, const MixedBatch& cpu, const std::string& what) {
  EXPECT_TRUE(gpu.images.device().is_cuda()) << what;
  EXPECT_TRUE(gpu.targets.device().is_cuda()) << what;
  EXPECT_TRUE(remix::testing::all_close(gpu.images, cpu.images, 1e-6, 1e-6)) << what;
  EXPECT_TRUE(remix::testing::all_close(gpu.targets, cpu.targets, 1e-6, 1e-6)) << what;
  EXPECT_EQ(gpu.lam, cpu.lam) << what;
  ASSERT_EQ(gpu.consistency, cpu.consistency) << what;
  if (!cpu.consistency) return;
  EXPECT_TRUE(gpu.roi_boxes.device().is_cuda()) << what;
  EXPECT_TRUE(testing::identical(gpu.roi_boxes, cpu.roi_boxes)) << what;
  EXPECT_TRUE(remix::testing::all_close(gpu.teacher_probs, cpu.teacher_probs, 1e-6, 1e-5)) << what;
  EXPECT_EQ(gpu.consistency_weight, cpu.consistency_weight) << what;
}

TEST(AugmentationsOnTheGpu, MatchTheCpuStepForStep) {
  REMIX_SKIP_WITHOUT_GPU();
  for (const Interpolation mode : {Interpolation::nearest, Interpolation::bilinear}) {
    AugmentOptions options;
    options.cutmix_prob = 1.0;
    options.rm_interpolation = mode;
    for (const RegisteredAugmentation& entry : registered_augmentations()) {
      const auto on_cpu = make_augmentation(entry.name, options);
      const auto on_gpu = make_augmentation(entry.name, options);
      Generator gen_cpu(5), gen_gpu(5);
      for (uint64_t step = 0; step < 4; ++step) {
        Generator data(step);
        const testing::Batch b = testing::random_batch(data, kN, kSide, kSide, kC, kK);
        const MixedBatch cpu = on_cpu->mix(b.images, b.targets, gen_cpu);
        const MixedBatch gpu =
            on_gpu->mix(b.images.to(Device::cuda()), b.targets.to(Device::cuda()), gen_gpu);
        expect_same_batch(gpu, cpu, entry.name + " step " + std::to_string(step));
        const Tensor logits = remix::testing::random_tensor({kN, kK}, data, -2.0, 2.0);
        on_cpu->remember(cpu, logits);
        on_gpu->remember(gpu, logits.to(Device::cuda()));
      }
    }
  }
}

// A 3x3 convolution to 4 x 4 x 3 features, then the heads.
class TinyNet : public nn::Classifier {
 public:
  explicit TinyNet(Generator& gen) : Classifier("TinyNet") {
    conv_ = register_module(
        "conv", std::make_shared<nn::Conv2d>(nn::Conv2dOptions{kC, 3, 3, 2, 1, false}, gen));
    add_heads(3, kK, gen);
  }
  Tensor features(const Tensor& x) override { return (*conv_)(x); }

 private:
  std::shared_ptr<nn::Conv2d> conv_;
};

TEST(MixedBatchLossOnTheGpu, MatchesTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator init_cpu(1), init_gpu(1);
  TinyNet cpu_model(init_cpu), gpu_model(init_gpu);
  gpu_model.to(Device::cuda());
  const auto rm = make_augmentation("rm");
  Generator data(2), gen(3);
  const testing::Batch first = testing::random_batch(data, kN, kSide, kSide, kC, kK);
  rm->remember(rm->mix(first.images, first.targets, gen),
               remix::testing::random_tensor({kN, kK}, data));
  const testing::Batch second = testing::random_batch(data, kN, kSide, kSide, kC, kK);
  MixedBatch batch = rm->mix(second.images, second.targets, gen);
  ASSERT_TRUE(batch.consistency) << "choose a seed that gives a non-empty box";
  const TrainingLoss cpu = mixed_batch_loss(cpu_model, batch);
  batch.images = batch.images.to(Device::cuda());
  batch.targets = batch.targets.to(Device::cuda());
  batch.roi_boxes = batch.roi_boxes.to(Device::cuda());
  batch.teacher_probs = batch.teacher_probs.to(Device::cuda());
  const TrainingLoss gpu = mixed_batch_loss(gpu_model, batch);
  EXPECT_NEAR(gpu.main.item(), cpu.main.item(), 1e-3);
  EXPECT_NEAR(gpu.consistency.item(), cpu.consistency.item(), 1e-3);
  EXPECT_NEAR(gpu.total.item(), cpu.total.item(), 1e-3);
}

}  // namespace
}  // namespace remix::augment
