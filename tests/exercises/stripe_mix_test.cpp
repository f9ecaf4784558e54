// Exercise 2: stripemix pastes exactly its stripe, mixes the targets by area, and is made by name.
#include "exercises/stripe_mix.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "apps/setup.h"
#include "apps/train_config.h"
#include "augment/registry.h"

namespace remix::exercises {
namespace {

struct Batch {
  Tensor images, targets;
};

Batch numbered_batch(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k) {
  std::vector<float> pixels(static_cast<size_t>(n * h * w * c)), targets(static_cast<size_t>(n * k));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i);  // all distinct
  for (int64_t i = 0; i < n; ++i) targets[static_cast<size_t>(i * k + i % k)] = 1;
  return {Tensor::from_vector(pixels, {n, h, w, c}), Tensor::from_vector(targets, {n, k})};
}

TEST(StripeMixExercise, PastesColumnsX1ToX2OfThePermutedImagesAndNothingElse) {
  const Batch b = numbered_batch(3, 4, 8, 2, 5);
  const std::vector<int64_t> perm = {2, 0, 1};
  const augment::MixedBatch out = stripe_mix(b.images, b.targets, 3, 5, perm);
  const std::vector<float> in = b.images.to_vector<float>(), got = out.images.to_vector<float>();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 8; ++x)
        for (int64_t c = 0; c < 2; ++c) {
          const int64_t from = (x >= 3 && x < 5) ? perm[static_cast<size_t>(i)] : i;
          EXPECT_EQ(got[static_cast<size_t>(((i * 4 + y) * 8 + x) * 2 + c)],
                    in[static_cast<size_t>(((from * 4 + y) * 8 + x) * 2 + c)])
              << i << " " << y << " " << x;
        }
}

TEST(StripeMixExercise, MixesTheTargetsByTheStripesArea) {
  const Batch b = numbered_batch(2, 4, 8, 1, 3);
  const augment::MixedBatch out = stripe_mix(b.images, b.targets, 0, 2, {1, 0});
  EXPECT_DOUBLE_EQ(out.lam, 0.75);  // 2 of 8 columns pasted
  EXPECT_EQ(out.targets.to_vector<float>(), (std::vector<float>{0.75f, 0.25f, 0, 0.25f, 0.75f, 0}));
  EXPECT_THROW(stripe_mix(b.images, b.targets, 5, 9, {1, 0}), Error);
}

// Registered once per process (a second registration of a name is an error).
void ensure_stripe_mix_registered() {
  const std::vector<std::string> names = augment::augmentation_names();
  if (std::find(names.begin(), names.end(), "stripemix") == names.end()) register_stripe_mix();
}

TEST(StripeMixExercise, IsMadeByNameAndKeepsTargetRowsSummingToOne) {
  ensure_stripe_mix_registered();
  const auto aug = augment::make_augmentation("stripemix");
  const Batch b = numbered_batch(6, 8, 8, 3, 4);
  Generator gen(3);
  for (int step = 0; step < 5; ++step) {
    const augment::MixedBatch out = aug->mix(b.images, b.targets, gen);
    EXPECT_EQ(out.images.shape(), b.images.shape());
    EXPECT_GE(out.lam, 0.0);
    EXPECT_LE(out.lam, 1.0);
    const std::vector<float> t = out.targets.to_vector<float>();
    for (int64_t i = 0; i < 6; ++i)
      EXPECT_NEAR(t[static_cast<size_t>(i * 4)] + t[static_cast<size_t>(i * 4 + 1)] +
                      t[static_cast<size_t>(i * 4 + 2)] + t[static_cast<size_t>(i * 4 + 3)],
                  1.0, 1e-6);
  }
}

// The training app needs no change for a new augmentation: its --aug option, --help and
// build_augmentation() read the registry.
TEST(StripeMixExercise, RemixTrainTakesItWithNoChangeToTheApp) {
  ensure_stripe_mix_registered();
  CLI::App app;
  app::TrainConfig config;
  app::add_train_options(app, config);
  EXPECT_NE(app.help().find("stripemix"), std::string::npos);
  app.parse(std::vector<std::string>{"stripemix", "--aug"});  // CLI11 takes the words reversed
  config.device = "cpu";
  app::resolve_config(config);
  EXPECT_EQ(app::build_augmentation(config, 4)->name(), "stripemix");
}

}  // namespace
}  // namespace remix::exercises
