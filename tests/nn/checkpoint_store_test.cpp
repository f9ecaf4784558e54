// A run's checkpoint units and links: a unit exists whole or not at all, links name units, an
// unfinished save is never read and is cleaned up, and the newest complete unit is found even
// when no link names it yet.
#include "nn/checkpoint_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nn/linear.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

namespace fs = std::filesystem;

class Run : public ::testing::Test {
 protected:
  Run()
      : directory_(fs::temp_directory_path() /
                   ("remix-store-" +
                    std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()))),
        gen_(1),
        model_(LinearOptions{3, 2}, gen_),
        optimizer_(model_.named_parameters(), 0.1, {0.9}),
        store_(directory_) {
    fs::remove_all(directory_);
    fs::create_directories(directory_);
  }
  ~Run() override { fs::remove_all(directory_); }

  // Saves the model as the unit of `step`, its progress recording `tag`.
  fs::path save(int64_t step, int tag = 0) {
    TrainingProgress progress;
    progress.step = step;
    progress.info = {{"tag", tag}};
    return store_.write(model_, optimizer_, progress);
  }
  int tag_of(const fs::path& model_file) {
    return load_checkpoint(model_file.string(), model_, optimizer_).info.at("tag").get<int>();
  }

  fs::path directory_;
  Generator gen_;
  Linear model_;
  SGD optimizer_;
  CheckpointStore store_;
};

TEST_F(Run, AUnitIsAStepFolderHoldingTheModelAndItsState) {
  const fs::path model_file = save(12);
  EXPECT_EQ(model_file, directory_ / "checkpoints" / "step-00000012" / "model.safetensors");
  EXPECT_TRUE(fs::exists(model_file));
  EXPECT_TRUE(fs::exists(model_file.parent_path() / "model.state.safetensors"));
  EXPECT_EQ(store_.complete_steps(), std::vector<int64_t>{12});
  EXPECT_FALSE(fs::exists(directory_ / "checkpoints" / "step-00000012.tmp"));
}

TEST_F(Run, ALinkNamesAUnitByARelativePathAndLoadsLikeIt) {
  save(12, 7);
  store_.link("last", 12);
  const fs::path link = directory_ / "last.safetensors";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), fs::path("checkpoints/step-00000012/model.safetensors"));
  EXPECT_EQ(store_.linked_step("last"), 12);
  EXPECT_EQ(store_.linked_step("best"), std::nullopt);
  EXPECT_EQ(tag_of(link), 7);
  save(20, 8);
  store_.link("last", 20);  // switched in place
  EXPECT_EQ(tag_of(link), 8);
  EXPECT_FALSE(fs::exists(fs::symlink_status(directory_ / "last.safetensors.tmp")));
}

TEST_F(Run, AnUnfinishedUnitIsNeverCompleteAndIsCleanedUp) {
  save(3);
  store_.link("last", 3);
  // A save killed after writing the model file, before the folder's rename.
  const fs::path unfinished = directory_ / "checkpoints" / "step-00000009.tmp";
  fs::create_directories(unfinished);
  fs::copy_file(store_.model_path(3), unfinished / "model.safetensors");
  EXPECT_EQ(store_.complete_steps(), std::vector<int64_t>{3});
  EXPECT_EQ(store_.newest_complete(), store_.model_path(3));
  store_.remove_unlinked();
  EXPECT_FALSE(fs::exists(unfinished));
  EXPECT_TRUE(fs::exists(store_.model_path(3)));
}

TEST_F(Run, TheNewestCompleteUnitIsFoundBeforeAnyLinkNamesIt) {
  save(3);
  store_.link("last", 3);
  save(5);  // killed before its links were switched
  EXPECT_EQ(store_.newest_complete(), store_.model_path(5));
  EXPECT_EQ(store_.linked_step("last"), 3);
}

TEST_F(Run, CleaningUpKeepsWhatTheLinksNameAndFilesThatAreNotUnits) {
  save(1);
  save(2);
  save(3);
  store_.link("best", 1);
  store_.link("last", 3);
  std::ofstream(directory_ / "checkpoints" / "notes.txt") << "mine";
  store_.remove_unlinked();
  EXPECT_EQ(store_.complete_steps(), (std::vector<int64_t>{1, 3}));
  EXPECT_TRUE(fs::exists(directory_ / "checkpoints" / "notes.txt"));
}

TEST_F(Run, SavingAStepThatHasACompleteUnitKeepsThatUnit) {
  save(4, 1);
  save(4, 2);
  EXPECT_EQ(tag_of(store_.model_path(4)), 1);
}

TEST_F(Run, TheRunDirectoryOfACheckpointIsFoundFromItsUnitOrItsLink) {
  const fs::path run = "runs/a";
  EXPECT_EQ(CheckpointStore::run_directory_of(run / "checkpoints/step-00000004/model.safetensors"),
            run);
  EXPECT_EQ(CheckpointStore::run_directory_of(run / "last.safetensors"), run);
  EXPECT_EQ(CheckpointStore::run_directory_of("model.safetensors"), fs::path("."));
}

}  // namespace
}  // namespace remix::nn
