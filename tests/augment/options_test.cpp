// The declaration of the augmentation settings: flags, JSON and ranges follow from it.
#include "augment/options.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <cmath>
#include <set>

#include "tensor/check.h"

namespace remix::augment {
namespace {

TEST(AugmentSettings, EachKeyAndFlagIsDeclaredOnceAndTheFlagIsTheKeySpelledWithDashes) {
  std::set<std::string> keys;
  for (const AugmentSetting& s : augment_settings()) {
    EXPECT_TRUE(keys.insert(s.key).second) << s.key << " declared twice";
    std::string expected = "--" + s.key;
    for (char& c : expected)
      if (c == '_') c = '-';
    EXPECT_EQ(flag_of(s), expected);
  }
}

TEST(AugmentSettings, JsonRoundTripKeepsEveryValue) {
  AugmentOptions o;
  o.cutout_size = 7;
  o.mixup_alpha = 0.2;
  o.cutmix_beta = 2;
  o.cutmix_prob = 1;
  o.rm_alpha = 0.3;
  o.rm_omega = 0.1;
  o.rm_interpolation = Interpolation::bilinear;
  o.rm_resize = o.rm_history = o.rm_consistency = false;
  o.rm_shared_head = o.rm_keep_history = true;
  const nlohmann::json j = o;
  EXPECT_EQ(j.size(), augment_settings().size());
  EXPECT_EQ(j["rm_interp"], "bilinear");
  EXPECT_EQ(j["rm_cl"], false);
  const AugmentOptions back = j.get<AugmentOptions>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.cutout_size, 7);
  EXPECT_TRUE(back.rm_keep_history);
}

TEST(AugmentSettings, MissingKeysKeepTheDefaults) {
  const AugmentOptions o = nlohmann::json{{"rm_omega", 0.25}}.get<AugmentOptions>();
  EXPECT_EQ(o.rm_omega, 0.25);
  EXPECT_EQ(o.rm_alpha, AugmentOptions{}.rm_alpha);
  EXPECT_EQ(o.cutout_size, AugmentOptions{}.cutout_size);
}

TEST(AugmentSettings, TheDefaultsAreInsideTheirRanges) {
  EXPECT_NO_THROW(check_settings(AugmentOptions{}));
}

TEST(AugmentSettings, AValueOutsideItsRangeIsRefusedNamingTheFlagAndTheRange) {
  const std::pair<void (*)(AugmentOptions&), const char*> cases[] = {
      {[](AugmentOptions& o) { o.cutout_size = 0; }, "--cutout-size must be in [1, 1024], got 0"},
      {[](AugmentOptions& o) { o.mixup_alpha = 0; }, "--mixup-alpha must be in (0, 1000]"},
      {[](AugmentOptions& o) { o.cutmix_prob = 1.5; }, "--cutmix-prob must be in [0, 1]"},
      {[](AugmentOptions& o) { o.rm_alpha = 1.01; }, "--rm-alpha must be in (0, 1]"},
      {[](AugmentOptions& o) { o.rm_omega = std::nan(""); }, "--rm-omega must be in [0, 1000]"}};
  for (const auto& [change, expected] : cases) {
    SCOPED_TRACE(expected);
    AugmentOptions o;
    change(o);
    try {
      check_settings(o);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace remix::augment
