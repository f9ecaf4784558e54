// The model zoo: every model builds with PyTorch's exact parameter count, runs a forward pass on a
// tiny CIFAR batch, and exposes the features and the ROI head RecursiveMix needs.
//
// Pinned counts (10 classes, without fc_roi) were printed by PyTorch: resnet18/34 and
// pyramidnet164/200 from shared/bench/torch_reference.py's ResNetCifar and PyramidNetCifar, the
// others from the same-architecture PyTorch definitions (torchvision Bottleneck layout for
// resnet50, He et al.'s option-A CIFAR ResNets, torchvision-style DenseNet-BC with a 3x3 stem).
// They also equal the counts from the published architectures (ResNet-18 11.17M, ResNet-50
// 23.52M, ResNet-20 0.27M, ResNet-56 0.85M, DenseNet-121 CIFAR 6.96M).
#include "nn/models/models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "autograd/ops.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

struct Pinned {
  const char* name;
  int64_t parameters;  // without fc_roi, 10 classes
  bool run_forward;    // the heaviest models are built and counted but not run here
  std::vector<std::pair<std::string, Shape>> shapes;  // a few parameters, by PyTorch name (KRSC)
};

void PrintTo(const Pinned& m, std::ostream* os) {
  *os << m.name;
}

class ModelZoo : public ::testing::TestWithParam<Pinned> {};

// One model per test: building initialises every parameter from the generator, which takes a
// while for the largest ones.
TEST_P(ModelZoo, HasThePyTorchParameterCountNamesAndRunsForward) {
  const Pinned& m = GetParam();
  Generator gen(1);
  auto model = make_model(m.name, 10, gen);
  const int64_t head = model->fc_roi().parameter_count();
  EXPECT_EQ(head, model->feature_channels() * 10 + 10);
  EXPECT_EQ(model->parameter_count() - head, m.parameters);

  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : model->named_parameters()) shapes[name] = t.shape();
  for (const auto& [name, shape] : m.shapes) {
    ASSERT_TRUE(shapes.count(name)) << name;
    EXPECT_EQ(shapes.at(name), shape) << name;
  }
  EXPECT_EQ(model->named_parameters().back().first, "fc_roi.bias");

  if (!m.run_forward) return;
  Generator data(2);
  NoGradGuard no_grad;
  const Tensor logits = model->forward(testing::random_tensor({2, 32, 32, 3}, data));
  EXPECT_EQ(logits.shape(), (Shape{2, 10}));
  for (float v : logits.to_vector<float>()) ASSERT_TRUE(std::isfinite(v));
}

INSTANTIATE_TEST_SUITE_P(
    EveryModel, ModelZoo,
    ::testing::Values(
        Pinned{"resnet18",
               11173962,
               true,
               {{"conv1.weight", {64, 3, 3, 3}},
                {"layer2.0.downsample.0.weight", {128, 1, 1, 64}},
                {"layer2.0.downsample.1.weight", {128}},
                {"layer4.1.bn2.bias", {512}},
                {"fc_roi.weight", {10, 512}}}},
        Pinned{"resnet34", 21282122, true, {{"layer3.5.conv2.weight", {256, 3, 3, 256}}}},
        Pinned{"resnet50",
               23520842,
               true,
               {{"layer1.0.conv3.weight", {256, 1, 1, 64}},
                {"layer1.0.downsample.0.weight", {256, 1, 1, 64}},
                {"fc.weight", {10, 2048}}}},
        Pinned{"resnet20", 269722, true, {{"layer3.2.bn2.weight", {64}}}},
        Pinned{"resnet32", 464154, true, {{"layer3.4.conv1.weight", {64, 3, 3, 64}}}},
        Pinned{"resnet56", 853018, true, {{"layer2.8.conv2.weight", {32, 3, 3, 32}}}},
        Pinned{"pyramidnet164",
               27216021,
               false,
               {{"layer1.0.bn1.weight", {16}},
                {"layer1.0.conv1.weight", {21, 1, 1, 16}},
                {"layer1.0.bn4.weight", {84}},
                {"bn_final.weight", {1144}}}},
        Pinned{"pyramidnet200", 26752702, false, {{"bn_final.bias", {1024}}}},
        Pinned{"densenet121",
               6956298,
               true,
               {{"conv0.weight", {64, 3, 3, 3}},
                {"denseblock1.denselayer1.conv1.weight", {128, 1, 1, 64}},
                {"denseblock1.denselayer6.norm1.weight", {224}},
                {"transition3.conv.weight", {512, 1, 1, 1024}},
                {"norm5.weight", {1024}}}}),
    [](const ::testing::TestParamInfo<Pinned>& info) { return std::string(info.param.name); });

TEST(Models, AShallowPyramidNetRunsForwardAndBackward) {
  Generator gen(3);
  auto model = make_model("pyramidnet164", 10, gen, {.pyramid_depth = 11, .pyramid_alpha = 48});
  const Tensor logits = model->forward(testing::random_tensor({2, 32, 32, 3}, gen));
  EXPECT_EQ(logits.shape(), (Shape{2, 10}));
  backward(sum(logits));
  EXPECT_TRUE(grad(model->named_parameters()[0].second).defined());
  // depth 11: one block per stage; widths 16 + 16, + 16, + 16 -> 32, 48, 64; output 4 * 64
  EXPECT_EQ(model->feature_channels(), 256);
}

TEST(Models, ExposeTheLastFeatureMapAndTheRoiHead) {
  Generator gen(4);
  auto model = make_model("resnet20", 7, gen);
  model->eval();
  const Tensor x = testing::random_tensor({2, 32, 32, 3}, gen);
  const Tensor f = model->features(x);
  EXPECT_EQ(f.shape(), (Shape{2, 8, 8, 64}));
  EXPECT_TRUE(testing::all_close(model->forward(x), model->fc().forward(global_avg_pool(f))));
  // A box over the whole image, with 1x1 aligned ROI-Align at scale 8/32, averages the map
  // with bilinear samples; the shared head applies fc to it.
  const Tensor boxes = Tensor::from_vector<float>({0, 0, 32, 32, 8, 8, 24, 24}, {2, 4});
  const Tensor roi = model->roi_logits(f, boxes, 32);
  const Tensor shared = model->roi_logits(f, boxes, 32, true);
  EXPECT_EQ(roi.shape(), (Shape{2, 7}));
  const Tensor pooled = flatten(roi_align(f, boxes, {1, 1, 0.25, -1, true}), 1);
  EXPECT_TRUE(testing::all_close(roi, model->fc_roi().forward(pooled)));
  EXPECT_TRUE(testing::all_close(shared, model->fc().forward(pooled)));
}

TEST(Models, BuildsAModelRegisteredAtRunTimeByItsNameAndRefusesATakenName) {
  const ModelFactory resnet20_again = [](int64_t classes, Generator& gen, const ModelOptions&) {
    return std::make_shared<ResNet>(ResNetConfig::cifar(20), classes, gen);
  };
  register_model({"resnet20-for-test", "ResNet-20 under another name (a test)", resnet20_again});
  EXPECT_EQ(model_names().back(), "resnet20-for-test");
  Generator gen(3), same(3);
  const auto model = make_model("resnet20-for-test", 7, gen);
  EXPECT_EQ(model->num_classes(), 7);
  EXPECT_EQ(model->parameter_count(), make_model("resnet20", 7, same)->parameter_count());
  EXPECT_THROW(register_model({"resnet20-for-test", "again", resnet20_again}), Error);
  EXPECT_THROW(register_model({"resnet18", "a second resnet18", resnet20_again}), Error);
  EXPECT_THROW(register_model({"nameless-factory", "no factory", nullptr}), Error);
}

TEST(Models, AnUnknownNameListsTheValidOnes) {
  Generator gen(6);
  try {
    make_model("resnet19", 10, gen);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("resnet19"), std::string::npos) << message;
    for (const auto& name : model_names()) EXPECT_NE(message.find(name), std::string::npos) << name;
  }
  EXPECT_THROW(make_model("resnet18", 0, gen), Error);
}

}  // namespace
}  // namespace remix::nn
