// The registry (augment/registry.h): the five names, each made by name, unknown names refused.
#include "augment/registry.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

TEST(Registry, ListsTheFiveAugmentationsInOrder) {
  for (const RegisteredAugmentation& entry : registered_augmentations())
    EXPECT_FALSE(entry.description.empty()) << entry.name;
  EXPECT_EQ(augmentation_names(),
            (std::vector<std::string>{"none", "cutout", "mixup", "cutmix", "rm"}));
}

TEST(Registry, MakesEachAugmentationByItsName) {
  for (const RegisteredAugmentation& entry : registered_augmentations())
    EXPECT_EQ(make_augmentation(entry.name)->name(), entry.name);
}

TEST(Registry, RefusesAnUnknownNameAndListsTheValidOnes) {
  try {
    make_augmentation("cutmixx");
    FAIL() << "expected a remix::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("\"cutmixx\""), std::string::npos) << message;
    EXPECT_NE(message.find("none, cutout, mixup, cutmix, rm"), std::string::npos) << message;
  }
}

TEST(Registry, NoneReturnsTheBatchUnchangedAndKeepsNoState) {
  const auto none = make_augmentation("none");
  Generator data(1), gen(2), replay(2);
  const testing::Batch b = testing::random_batch(data, 2, 4, 4, 3, 5);
  const MixedBatch out = none->mix(b.images, b.targets, gen);
  EXPECT_TRUE(out.images.same_storage(b.images));
  EXPECT_TRUE(out.targets.same_storage(b.targets));
  EXPECT_EQ(out.lam, 1.0);
  EXPECT_FALSE(out.consistency);
  EXPECT_EQ(gen.next_u64(), replay.next_u64());
  EXPECT_TRUE(none->state().empty());
  EXPECT_THROW(none->load_state({{"history_images", b.images}}), Error);
}

TEST(Registry, ChecksTheBatchItIsGiven) {
  AugmentOptions options;
  options.num_classes = 4;
  Generator data(1), gen(2);
  const testing::Batch b = testing::random_batch(data, 2, 4, 4, 3, 5);
  for (const RegisteredAugmentation& entry : registered_augmentations()) {
    if (entry.name == "none") continue;
    const auto aug = make_augmentation(entry.name, options);
    EXPECT_THROW(aug->mix(b.images, b.targets, gen), Error) << entry.name << ": 5 classes, not 4";
    EXPECT_THROW(aug->mix(b.images.reshape({2, 48}), b.targets, gen), Error) << entry.name;
  }
}

TEST(InterpolationNames, ReadBothWaysAndRejectOthers) {
  EXPECT_EQ(interpolation_from_name("nearest"), Interpolation::nearest);
  EXPECT_EQ(interpolation_from_name("bilinear"), Interpolation::bilinear);
  EXPECT_EQ(interpolation_name(Interpolation::bilinear), "bilinear");
  EXPECT_THROW(interpolation_from_name("bicubic"), Error);
}

}  // namespace
}  // namespace remix::augment
