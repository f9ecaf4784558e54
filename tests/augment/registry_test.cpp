// The registry (augment/registry.h): the five built-in names, each made by name, unknown names
// refused, additions registered at run time.
#include "augment/registry.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/augment/augment_test_support.h"

namespace remix::augment {
namespace {

TEST(Registry, ListsTheFiveBuiltInAugmentationsFirstInOrder) {
  for (const RegisteredAugmentation& entry : registered_augmentations())
    EXPECT_FALSE(entry.description.empty()) << entry.name;
  std::vector<std::string> names = augmentation_names();
  ASSERT_GE(names.size(), 5u);
  names.resize(5);  // tests in this process may have registered more after them
  EXPECT_EQ(names, (std::vector<std::string>{"none", "cutout", "mixup", "cutmix", "rm"}));
}

// An augmentation defined outside the table: it zeroes nothing and checks its batch.
class Unchanged : public BatchAugmentation {
 public:
  explicit Unchanged(int64_t classes) : classes_(classes) {}
  std::string name() const override { return "unchanged-for-test"; }
  MixedBatch mix(const Tensor& images, const Tensor& targets, Generator&) override {
    check_batch(images, targets, classes_, "unchanged-for-test");
    return unmixed(images, targets);
  }

 private:
  int64_t classes_;
};

TEST(Registry, MakesAnAugmentationRegisteredAtRunTimeByItsNameAndRefusesATakenName) {
  const auto make = [](const AugmentOptions& o) -> std::unique_ptr<BatchAugmentation> {
    return std::make_unique<Unchanged>(o.num_classes);
  };
  register_augmentation({"unchanged-for-test", "the batch as it came (a test)", make});
  const std::vector<std::string> names = augmentation_names();
  EXPECT_EQ(names.back(), "unchanged-for-test");
  EXPECT_EQ(make_augmentation("unchanged-for-test")->name(), "unchanged-for-test");
  EXPECT_THROW(register_augmentation({"unchanged-for-test", "again", make}), Error);
  EXPECT_THROW(register_augmentation({"cutmix", "a second cutmix", make}), Error);
  EXPECT_THROW(register_augmentation({"", "no name", make}), Error);
  EXPECT_EQ(augmentation_names().size(), names.size());
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
