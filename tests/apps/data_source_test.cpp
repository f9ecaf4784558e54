// The --data option: parsing, and messages that say which path is missing.
#include "apps/data_source.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/apps/apps_test_support.h"

namespace remix::app {
namespace {

std::string error_of(const TrainConfig& config) {
  try {
    load_data(config);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataSpec, ParsesEveryKind) {
  EXPECT_EQ(parse_data_spec("synthetic").kind, "synthetic");
  const DataSpec cifar = parse_data_spec("cifar100:/data/c100");
  EXPECT_EQ(cifar.kind, "cifar100");
  EXPECT_EQ(cifar.dir, "/data/c100");
  EXPECT_EQ(parse_data_spec("folder:rel/dir").dir, "rel/dir");
}

TEST(DataSpec, RejectsUnknownKindsAndMissingDirectories) {
  EXPECT_THROW(parse_data_spec("imagenet:/x"), Error);
  EXPECT_THROW(parse_data_spec("cifar10"), Error);
  EXPECT_THROW(parse_data_spec("folder:"), Error);
}

TEST(LoadData, AMissingDirectoryIsNamedWithTheExpectedLayout) {
  TrainConfig config;
  config.data = "folder:/no/such/place";
  const std::string message = error_of(config);
  EXPECT_NE(message.find("/no/such/place does not exist"), std::string::npos) << message;
  EXPECT_NE(message.find("/no/such/place/train/<class>/<image>"), std::string::npos) << message;
  config.data = "cifar10:/no/such/place";
  EXPECT_NE(error_of(config).find("CIFAR-10 binary files"), std::string::npos);
}

TEST(LoadData, AFolderWithoutATestSplitSaysSo) {
  testing::TemporaryDirectory dir;
  std::filesystem::create_directories(dir.path() / "train" / "cat");
  TrainConfig config;
  config.data = "folder:" + dir.path().string();
  const std::string message = error_of(config);
  EXPECT_NE(message.find("the test folder " + (dir.path() / "test").string() + " does not exist"),
            std::string::npos)
      << message;
}

TEST(LoadData, SyntheticSplitsHaveTheRequestedSizesAndTenClasses) {
  TrainConfig config;
  config.synthetic_train = 30;
  config.synthetic_test = 20;
  const TrainTestData data = load_data(config);
  EXPECT_EQ(data.train.size(), 30);
  EXPECT_EQ(data.test.size(), 20);
  EXPECT_EQ(data.train.num_classes, 10);
  EXPECT_EQ(class_count(parse_data_spec("synthetic")), 10);
  EXPECT_EQ(class_count(parse_data_spec("cifar100:/x")), 100);
}

TEST(LoadData, ClassCountOfAFolderIsItsClassSubfolders) {
  testing::TemporaryDirectory dir;
  for (const char* name : {"train/a", "train/b", "train/.hidden", "test/a"})
    std::filesystem::create_directories(dir.path() / name);
  std::ofstream(dir.path() / "train" / "notes.txt") << "not a class";
  EXPECT_EQ(class_count(parse_data_spec("folder:" + dir.path().string())), 2);
}

}  // namespace
}  // namespace remix::app
