// Class-activation maps against a hand computation, their resize and colours, and remix-cam's
// picture.
#include "apps/cam.h"

#include <gtest/gtest.h>

#include <fstream>

#include "apps/data_source.h"
#include "data/image_decoder.h"
#include "tests/apps/apps_test_support.h"

namespace remix::app::testing {
namespace {

// features(x) = x: the "feature map" is the input itself, so the maps can be computed by hand.
class IdentityFeatures : public nn::Classifier {
 public:
  IdentityFeatures(const std::vector<float>& fc_weight, const std::vector<float>& fc_bias)
      : Classifier("IdentityFeatures") {
    Generator gen(1);
    add_heads(2, 2, gen);
    fc().weight() = Tensor::from_vector(fc_weight, {2, 2});
    fc().bias() = Tensor::from_vector(fc_bias, {2});
  }
  Tensor features(const Tensor& x) override { return x; }
};

TEST(ClassActivationMaps, MatchAHandComputationOnATinyModel) {
  // W = [[1, -1], [0.5, 2]], b = [1, 0]; two 2 x 2 images of 2 channels (pixels in row order).
  IdentityFeatures model({1, -1, 0.5f, 2}, {1, 0});
  const Tensor x = Tensor::from_vector<float>(
      {1, 0, 0, 1, 2, 1, 0, 0,    // image 0: mean (0.75, 0.5): logits (1.25, 1.375) -> class 1
       2, 0, 0, 1, 0, 0, 1, 0},   // image 1: mean (0.75, 0.25): logits (1.5, 0.875) -> class 0
      {2, 2, 2, 2});
  const ClassActivationMaps cams = class_activation_maps(model, x);
  EXPECT_EQ(cams.height, 2);
  EXPECT_EQ(cams.width, 2);
  EXPECT_EQ(cams.predicted, (std::vector<int64_t>{1, 0}));
  // Image 0, class 1: 0.5*c0 + 2*c1 = (0.5, 2, 3, 0), / 3.
  // Image 1, class 0: c0 - c1 = (2, -1, 0, 1): ReLU (2, 0, 0, 1), / 2. The bias is not in a map.
  const std::vector<float> expected = {0.5f / 3, 2.0f / 3, 1, 0, 1, 0, 0, 0.5f};
  ASSERT_EQ(cams.maps.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(cams.maps[i], expected[i], 1e-6) << i;
}

TEST(ClassActivationMaps, StayZeroWhereNothingIsPositive) {
  IdentityFeatures model({-1, -1, -1, -1}, {0, 0});
  const Tensor x = Tensor::ones({1, 2, 2, 2});
  const ClassActivationMaps cams = class_activation_maps(model, x);
  EXPECT_EQ(cams.maps, std::vector<float>(4, 0.0f));
}

TEST(ResizeBilinear, MatchesHandComputedHalfPixelValues) {
  // Output x of 4 reads source (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to [0, 1].
  const std::vector<float> out = resize_bilinear({0, 1, 2, 3}, 2, 2, 4, 4);
  const std::vector<float> expected = {0,   0.25, 0.75, 1,   0.5, 0.75, 1.25, 1.5,
                                       1.5, 1.75, 2.25, 2.5, 2,   2.25, 2.75, 3};
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], expected[i]) << i;
}

TEST(HeatColour, RunsFromBlueThroughGreenToRed) {
  const auto same = [](Rgb a, Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; };
  EXPECT_TRUE(same(heat_colour(0), {0, 0, 255}));
  EXPECT_TRUE(same(heat_colour(0.125f), {0, 128, 255}));
  EXPECT_TRUE(same(heat_colour(0.5f), {0, 255, 0}));
  EXPECT_TRUE(same(heat_colour(1), {255, 0, 0}));
  EXPECT_TRUE(same(heat_colour(7), {255, 0, 0}));
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(RemixCam, DrawsTheTestImagesAndOneRowOfMapsPerCheckpoint) {
  const TemporaryDirectory dir;
  const ProgramResult train =
      run_program("remix-train", small_config_arguments(dir / "run", "none", 1));
  ASSERT_EQ(train.exit_status, 0) << train.output;
  const ProgramResult cam =
      run_program("remix-cam", {dir / "run/best.safetensors", "--compare",
                                dir / "run/last.safetensors", "--images", "3", "--scale", "2",
                                "-o", dir / "cam.png"});
  ASSERT_EQ(cam.exit_status, 0) << cam.output;
  data::DecodedImage png;
  std::string error;
  ASSERT_TRUE(data::decode_rgb(read_bytes(dir / "cam.png"), png, error)) << error;
  // A 120-pixel label column, then per image a 64-pixel cell and an 8-pixel gap; per row a
  // 64-pixel cell, a 16-pixel caption and an 8-pixel gap, after an 8-pixel top margin.
  EXPECT_EQ(png.width, 120 + 3 * (64 + 8) + 8);
  EXPECT_EQ(png.height, 8 + 3 * (64 + 16 + 8));
  // The first row shows the first test image, each pixel as a 2 x 2 square.
  const data::Dataset test = load_test_data(small_config(dir / "run"));
  const std::vector<uint8_t> first = test.images.to_vector<uint8_t>();
  for (int y = 0; y < 64; y += 7)
    for (int x = 0; x < 64; x += 5)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(png.rgb[static_cast<size_t>(((8 + y) * png.width + 120 + x) * 3 + c)],
                  first[static_cast<size_t>(((y / 2) * 32 + x / 2) * 3 + c)])
            << x << "," << y;
}

TEST(RemixCam, SaysWhatIsWrongWithItsInputs) {
  const TemporaryDirectory dir;
  std::ofstream(dir / "loose.safetensors") << "not a checkpoint";
  const ProgramResult no_config = run_program("remix-cam", {dir / "loose.safetensors"});
  EXPECT_EQ(no_config.exit_status, 1);
  EXPECT_NE(no_config.output.find("no config.json"), std::string::npos) << no_config.output;
  const ProgramResult no_file = run_program("remix-cam", {dir / "missing.safetensors"});
  EXPECT_NE(no_file.exit_status, 0);
  EXPECT_NE(no_file.output.find("does not exist"), std::string::npos) << no_file.output;
  const ProgramResult zero = run_program("remix-cam", {dir / "loose.safetensors", "--images", "0"});
  EXPECT_NE(zero.exit_status, 0);
  EXPECT_NE(zero.output.find("--images"), std::string::npos) << zero.output;
}

}  // namespace
}  // namespace remix::app::testing
