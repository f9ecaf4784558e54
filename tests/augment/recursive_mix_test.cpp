// RecursiveMix (augment/recursive_mix.cpp): the history handling, each ablation switch, the
// equality with CutMix when every switch is off, and the state kept for a resume.
#include <gtest/gtest.h>

#include <string>

#include "augment/mixing.h"
#include "augment/registry.h"
#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

using testing::Batch;
using testing::identical;
using testing::random_batch;

constexpr int64_t kN = 4, kSide = 8, kC = 3, kK = 5;

Batch batch_of(uint64_t seed, int64_t n = kN) {
  Generator gen(seed);
  return random_batch(gen, n, kSide, kSide, kC, kK);
}

Tensor logits_of(uint64_t seed, int64_t n = kN) {
  Generator gen(seed);
  return remix::testing::random_tensor({n, kK}, gen, -3.0, 3.0);
}

// The box RecursiveMix draws next from `gen` (left unchanged).
Box next_box(const Generator& gen, double alpha) {
  Generator replay = gen;
  const double ratio = replay.uniform(0.0, alpha);
  return draw_box(replay, kSide, kSide, ratio);
}

// A history of one step: `rm` has mixed (unmixed, as a first step) and remembered batch_of(seed).
MixedBatch first_step(BatchAugmentation& rm, uint64_t seed, Generator& gen, int64_t n = kN) {
  const Batch b = batch_of(seed, n);
  MixedBatch first = rm.mix(b.images, b.targets, gen);
  rm.remember(first, logits_of(seed + 100, n));
  return first;
}

TEST(RecursiveMix, LeavesTheFirstStepUnmixedAndDrawsNothing) {
  const auto rm = make_augmentation("rm");
  const Batch b = batch_of(1);
  Generator gen(7), replay(7);
  const MixedBatch out = rm->mix(b.images, b.targets, gen);
  EXPECT_TRUE(out.images.same_storage(b.images));
  EXPECT_TRUE(out.targets.same_storage(b.targets));
  EXPECT_EQ(out.lam, 1.0);
  EXPECT_FALSE(out.consistency);
  EXPECT_EQ(gen.next_u64(), replay.next_u64());
}

TEST(RecursiveMix, PastesThePreviousStepsMixedInputResizedIntoOneBox) {
  const auto rm = make_augmentation("rm");
  Generator gen(11);
  MixedBatch previous = first_step(*rm, 1, gen);
  Tensor previous_logits = logits_of(101);
  for (uint64_t step = 2; step <= 3; ++step) {  // step 3 pastes step 2's already mixed input
    const Batch b = batch_of(step);
    const Box box = next_box(gen, 0.5);
    ASSERT_FALSE(box.empty()) << "choose a seed that gives a non-empty box";
    const MixedBatch out = rm->mix(b.images, b.targets, gen);
    const MixedBatch expected = paste_and_mix(b.images, b.targets, previous.images,
                                              previous.targets, box, PasteOptions{.resize = true});
    EXPECT_TRUE(identical(out.images, expected.images)) << "step " << step;
    EXPECT_TRUE(identical(out.targets, expected.targets)) << "step " << step;
    EXPECT_DOUBLE_EQ(out.lam, lam_of(box, kSide, kSide));
    ASSERT_TRUE(out.consistency);
    EXPECT_TRUE(identical(out.roi_boxes, roi_boxes(box, kN, Device::cpu())));
    const std::vector<double> teacher = testing::softmax_rows(previous_logits);
    EXPECT_TRUE(remix::testing::all_close(
        out.teacher_probs,
        Tensor::from_vector(std::vector<float>(teacher.begin(), teacher.end()), {kN, kK}), 1e-6));
    EXPECT_DOUBLE_EQ(out.consistency_weight, 0.5 * (1.0 - out.lam));
    EXPECT_FALSE(out.shared_roi_head);
    previous = out;
    previous_logits = logits_of(100 + step);
    rm->remember(out, previous_logits);
  }
}

TEST(RecursiveMix, UsesTheFirstHistoryRowsForASmallerLastBatch) {
  for (bool resize : {true, false}) {
    AugmentOptions options;
    options.rm_resize = resize;
    const auto rm = make_augmentation("rm", options);
    Generator gen(11);
    const MixedBatch history = first_step(*rm, 1, gen);
    const Batch b = batch_of(2, 2);
    const Box box = next_box(gen, 0.5);
    ASSERT_FALSE(box.empty());
    const MixedBatch out = rm->mix(b.images, b.targets, gen);
    const MixedBatch expected =
        paste_and_mix(b.images, b.targets, first_rows(history.images, 2),
                      first_rows(history.targets, 2), box, PasteOptions{.resize = resize});
    EXPECT_TRUE(identical(out.images, expected.images)) << "resize " << resize;
    EXPECT_TRUE(identical(out.targets, expected.targets)) << "resize " << resize;
    const std::vector<double> teacher = testing::softmax_rows(first_rows(logits_of(101), 2));
    EXPECT_TRUE(remix::testing::all_close(
        out.teacher_probs,
        Tensor::from_vector(std::vector<float>(teacher.begin(), teacher.end()), {2, kK}), 1e-6));
  }
}

TEST(RecursiveMix, LeavesABatchLargerThanTheHistoryUnmixed) {
  const auto rm = make_augmentation("rm");
  Generator gen(11);
  first_step(*rm, 1, gen, 2);
  const Batch b = batch_of(2);
  const MixedBatch out = rm->mix(b.images, b.targets, gen);
  EXPECT_EQ(out.lam, 1.0);
  EXPECT_FALSE(out.consistency);
}

TEST(RecursiveMix, ForgetsTheHistoryAtAnEpochStartUnlessTheResetIsOff) {
  for (bool reset : {true, false}) {
    AugmentOptions options;
    options.rm_keep_history = !reset;
    const auto rm = make_augmentation("rm", options);
    Generator gen(11);
    first_step(*rm, 1, gen);
    rm->start_epoch();
    EXPECT_EQ(rm->state().empty(), reset);
    ASSERT_FALSE(next_box(gen, 0.5).empty());
    const Batch b = batch_of(2);
    const MixedBatch out = rm->mix(b.images, b.targets, gen);
    EXPECT_EQ(out.lam == 1.0, reset) << "reset " << reset;
    EXPECT_EQ(out.consistency, !reset) << "reset " << reset;
  }
}

TEST(RecursiveMix, WithoutHistoricalSourceResizesAPermutedCurrentImageFromTheFirstStep) {
  AugmentOptions options;
  options.rm_history = false;
  options.rm_consistency = false;
  const auto rm = make_augmentation("rm", options);
  const Batch b = batch_of(1);
  Generator gen(11), replay(11);
  const MixedBatch out = rm->mix(b.images, b.targets, gen);
  const Box box = draw_box(replay, kSide, kSide, replay.uniform(0.0, 0.5));
  ASSERT_FALSE(box.empty());
  const Tensor perm = draw_permutation(replay, kN, Device::cpu());
  const MixedBatch expected =
      paste_and_mix(b.images, b.targets, rows(b.images, perm), rows(b.targets, perm), box,
                    PasteOptions{.resize = true});
  EXPECT_TRUE(identical(out.images, expected.images));
  EXPECT_TRUE(identical(out.targets, expected.targets));
  EXPECT_FALSE(out.consistency);
  rm->remember(out, logits_of(3));
  EXPECT_TRUE(rm->state().empty()) << "nothing to remember without the historical source";
}

TEST(RecursiveMix, WithoutResizePastesTheSameRegionOfTheHistory) {
  AugmentOptions options;
  options.rm_resize = false;
  const auto rm = make_augmentation("rm", options);
  Generator gen(11);
  const MixedBatch history = first_step(*rm, 1, gen);
  const Batch b = batch_of(2);
  const Box box = next_box(gen, 0.5);
  ASSERT_FALSE(box.empty());
  const MixedBatch out = rm->mix(b.images, b.targets, gen);
  const testing::Pixels mixed(out.images), current(b.images), old(history.images);
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t y = 0; y < kSide; ++y)
      for (int64_t x = 0; x < kSide; ++x) {
        const bool inside = x >= box.x1 && x < box.x2 && y >= box.y1 && y < box.y2;
        for (int64_t c = 0; c < kC; ++c)
          ASSERT_EQ(mixed.at(n, y, x, c), (inside ? old : current).at(n, y, x, c))
              << "image " << n << " pixel " << y << ", " << x;
      }
  EXPECT_TRUE(out.consistency);
}

TEST(RecursiveMix, ConsistencyOffChangesOnlyTheConsistencyTerm) {
  AugmentOptions off;
  off.rm_consistency = false;
  const auto with = make_augmentation("rm"), without = make_augmentation("rm", off);
  Generator gen_with(11), gen_without(11);
  first_step(*with, 1, gen_with);
  first_step(*without, 1, gen_without);
  ASSERT_FALSE(next_box(gen_with, 0.5).empty());
  const Batch b = batch_of(2);
  const MixedBatch a = with->mix(b.images, b.targets, gen_with);
  const MixedBatch c = without->mix(b.images, b.targets, gen_without);
  EXPECT_TRUE(identical(a.images, c.images));
  EXPECT_TRUE(identical(a.targets, c.targets));
  EXPECT_TRUE(a.consistency);
  EXPECT_FALSE(c.consistency);
}

TEST(RecursiveMix, ResizesBilinearlyAndSharesTheHeadWhenAsked) {
  AugmentOptions options;
  options.rm_interpolation = Interpolation::bilinear;
  options.rm_shared_head = true;
  options.rm_omega = 0.1;
  const auto rm = make_augmentation("rm", options);
  Generator gen(11);
  const MixedBatch history = first_step(*rm, 1, gen);
  const Batch b = batch_of(2);
  const Box box = next_box(gen, 0.5);
  ASSERT_FALSE(box.empty());
  const MixedBatch out = rm->mix(b.images, b.targets, gen);
  const PasteOptions bilinear{.resize = true, .interpolation = Interpolation::bilinear};
  const MixedBatch expected =
      paste_and_mix(b.images, b.targets, history.images, history.targets, box, bilinear);
  EXPECT_TRUE(identical(out.images, expected.images));
  EXPECT_TRUE(out.shared_roi_head);
  EXPECT_DOUBLE_EQ(out.consistency_weight, 0.1 * (1.0 - out.lam));
}

TEST(RecursiveMix, WithEverySwitchOffAndAlphaOneEqualsCutMix) {
  AugmentOptions options;
  options.rm_resize = options.rm_history = options.rm_consistency = false;
  options.rm_alpha = 1.0;
  options.cutmix_beta = 1.0;
  options.cutmix_prob = 1.0;
  const auto rm = make_augmentation("rm", options), cutmix = make_augmentation("cutmix", options);
  Generator gen_rm(21), gen_cutmix(21);
  for (uint64_t step = 0; step < 12; ++step) {
    const Batch b = batch_of(step);
    const MixedBatch a = rm->mix(b.images, b.targets, gen_rm);
    const MixedBatch c = cutmix->mix(b.images, b.targets, gen_cutmix);
    EXPECT_TRUE(identical(a.images, c.images)) << "step " << step;
    EXPECT_TRUE(identical(a.targets, c.targets)) << "step " << step;
    EXPECT_EQ(a.lam, c.lam) << "step " << step;
    EXPECT_FALSE(a.consistency);
    rm->remember(a, logits_of(step));
    cutmix->remember(c, logits_of(step));
  }
  EXPECT_EQ(gen_rm.next_u64(), gen_cutmix.next_u64()) << "the two made different draws";
}

TEST(RecursiveMix, RefusesTheConsistencyLossWithoutTheHistoricalSource) {
  AugmentOptions options;
  options.rm_history = false;
  try {
    make_augmentation("rm", options);
    FAIL() << "expected a remix::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(HS)"), std::string::npos) << e.what();
  }
}

TEST(RecursiveMix, RejectsAlphaOutsideZeroToOneAndANegativeOmega) {
  for (double alpha : {0.0, 1.5}) {
    AugmentOptions options;
    options.rm_alpha = alpha;
    EXPECT_THROW(make_augmentation("rm", options), Error) << "alpha " << alpha;
  }
  AugmentOptions options;
  options.rm_omega = -1.0;
  EXPECT_THROW(make_augmentation("rm", options), Error);
}

TEST(RecursiveMix, ResumesExactlyFromItsSavedState) {
  const auto original = make_augmentation("rm"), resumed = make_augmentation("rm");
  Generator gen(11);
  first_step(*original, 1, gen);
  const nn::NamedTensors state = original->state();
  ASSERT_EQ(state.size(), 3u);
  resumed->load_state(state);
  Generator gen_resumed = gen;
  ASSERT_FALSE(next_box(gen, 0.5).empty());
  const Batch b = batch_of(2);
  const MixedBatch a = original->mix(b.images, b.targets, gen);
  const MixedBatch c = resumed->mix(b.images, b.targets, gen_resumed);
  EXPECT_TRUE(identical(a.images, c.images));
  EXPECT_TRUE(identical(a.targets, c.targets));
  EXPECT_TRUE(identical(a.teacher_probs, c.teacher_probs));

  resumed->load_state({});
  EXPECT_TRUE(resumed->state().empty());
  EXPECT_THROW(resumed->load_state({state[0], {"history_pictures", state[0].second}}), Error);
  EXPECT_TRUE(resumed->state().empty());
  EXPECT_THROW(resumed->load_state({state[0], state[1]}), Error);
  EXPECT_TRUE(resumed->state().empty()) << "a rejected state leaves no history behind";
}

}  // namespace
}  // namespace remix::augment
