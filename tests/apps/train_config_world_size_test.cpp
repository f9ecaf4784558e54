// The number of processes in a run's config (apps/train_config.h): config.json records it and
// the global batch, reads them back, and refuses a global batch that does not follow from them.
#include <gtest/gtest.h>

#include <limits>

#include "apps/train_config.h"

namespace remix::app {
namespace {

TEST(TrainConfigWorldSize, ConfigJsonRecordsTheProcessesAndTheGlobalBatch) {
  TrainConfig config;
  config.world_size = 4;
  config.batch_size = 32;
  const nlohmann::json json = to_json(config);
  EXPECT_EQ(json.at("world_size"), 4);
  EXPECT_EQ(json.at("global_batch_size"), 128);
  const TrainConfig read = config_from_json(json);
  EXPECT_EQ(read.world_size, 4);
  EXPECT_EQ(read.batch_size, 32);
}

TEST(TrainConfigWorldSize, AConfigWithoutItIsOneProcess) {
  const TrainConfig read = config_from_json(nlohmann::json{{"batch_size", 64}});
  EXPECT_EQ(read.world_size, 1);
}

TEST(TrainConfigWorldSize, AGlobalBatchThatDoesNotFollowIsRefused) {
  nlohmann::json json = to_json(TrainConfig{});
  json["world_size"] = 2;
  json["global_batch_size"] = 128;  // 2 x 128 would be 256
  EXPECT_THROW(config_from_json(json), Error);
}

TEST(TrainConfigWorldSize, AProductBeyondInt64IsAnErrorNotAnOverflow) {
  nlohmann::json json = to_json(TrainConfig{});
  json["world_size"] = std::numeric_limits<int64_t>::max() / 2;
  json["global_batch_size"] = 1;
  EXPECT_THROW(config_from_json(json), Error);
}

TEST(TrainConfigWorldSize, ResolvingRefusesFewerThanOneProcess) {
  TrainConfig config;
  config.device = "cpu";
  config.world_size = 0;
  EXPECT_THROW(resolve_config(config), Error);
}

}  // namespace
}  // namespace remix::app
