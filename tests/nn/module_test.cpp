// Module: registration by name, dotted names, modes, gradients, devices, Sequential.
#include <gtest/gtest.h>

#include "autograd/node.h"
#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/sequential.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

// A two-level module as a model would build it: a stem and a Sequential of blocks.
class Block : public Layer {
 public:
  explicit Block(Generator& gen) : Layer("Block") {
    conv1_ = register_module("conv1", std::make_shared<Conv2d>(Conv2dOptions{4, 4, 3, 1, 1}, gen));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{4}));
  }
  Tensor forward(const Tensor& x) override { return bn1_->forward(conv1_->forward(x)); }

 private:
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
};

class Net : public Layer {
 public:
  explicit Net(Generator& gen) : Layer("Net") {
    scale_ = Tensor::ones({1});
    register_parameter("scale", &scale_);
    layer1_ = register_module("layer1", std::make_shared<Sequential>());
    layer1_->push_back(std::make_shared<Block>(gen));
    layer1_->push_back(std::make_shared<Block>(gen));
    fc_ = register_module("fc", std::make_shared<Linear>(LinearOptions{4, 2}, gen));
  }
  Tensor forward(const Tensor& x) override { return layer1_->forward(x); }
  void register_scale_as(const std::string& name) { register_parameter(name, &scale_); }

 private:
  Tensor scale_;
  std::shared_ptr<Sequential> layer1_;
  std::shared_ptr<Linear> fc_;
};

std::vector<std::string> names_of(const NamedTensors& named) {
  std::vector<std::string> names;
  for (const auto& [name, t] : named) names.push_back(name);
  return names;
}

TEST(Module, NamesParametersWithPyTorchDottedPaths) {
  Generator gen(1);
  Net net(gen);
  EXPECT_EQ(
      names_of(net.named_parameters()),
      (std::vector<std::string>{"scale", "layer1.0.conv1.weight", "layer1.0.bn1.weight",
                                "layer1.0.bn1.bias", "layer1.1.conv1.weight", "layer1.1.bn1.weight",
                                "layer1.1.bn1.bias", "fc.weight", "fc.bias"}));
  EXPECT_EQ(names_of(net.named_buffers()),
            (std::vector<std::string>{"layer1.0.bn1.running_mean", "layer1.0.bn1.running_var",
                                      "layer1.1.bn1.running_mean", "layer1.1.bn1.running_var"}));
  const auto counters = static_cast<const Net&>(net).named_counters();
  ASSERT_EQ(counters.size(), 2u);
  EXPECT_EQ(counters[0].first, "layer1.0.bn1.num_batches_tracked");
  EXPECT_EQ(net.named_modules()[3].first, "layer1.0.conv1");
}

TEST(Module, CountsParametersAndMarksThemAsRequiringGradients) {
  Generator gen(1);
  Net net(gen);
  // scale 1 + two blocks of (conv 4*3*3*4 + bn 2*4) + fc 4*2 + 2
  EXPECT_EQ(net.parameter_count(), 1 + 2 * (144 + 8) + 10);
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(requires_grad(p));
  for (const auto& [name, b] : net.named_buffers()) EXPECT_FALSE(requires_grad(b)) << name;
}

TEST(Module, NamedTensorsShareMemoryAndGradientsWithTheMembers) {
  Generator gen(1);
  Net net(gen);
  Tensor scale = net.named_parameters()[0].second;
  set_grad(scale, Tensor::ones({1}));
  EXPECT_TRUE(grad(net.parameters()[0]).defined());
  net.zero_grad();
  EXPECT_FALSE(grad(net.parameters()[0]).defined());
  EXPECT_TRUE(scale.same_storage(net.parameters()[0]));
}

TEST(Module, TrainAndEvalReachEveryDescendant) {
  Generator gen(1);
  Net net(gen);
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (const auto& [name, m] : net.named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net.train();
  for (const auto& [name, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(Module, MovingToItsOwnDeviceKeepsParametersTrainable) {
  Generator gen(1);
  Net net(gen);
  net.to(Device::cpu());
  for (const auto& [name, p] : net.named_parameters()) {
    EXPECT_TRUE(requires_grad(p)) << name;
    EXPECT_TRUE(p.device().is_cpu());
  }
}

TEST(Module, MovesParametersAndBuffersToTheGpuKeepingThemTrainable) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(1);
  Net net(gen);
  net.to(Device::cuda());
  for (const auto& [name, p] : net.named_parameters()) {
    EXPECT_TRUE(p.device().is_cuda()) << name;
    EXPECT_TRUE(requires_grad(p)) << name;
  }
  for (const auto& [name, b] : net.named_buffers()) EXPECT_TRUE(b.device().is_cuda()) << name;
}

TEST(Module, RejectsDuplicateAndDottedNames) {
  Generator gen(1);
  Net net(gen);
  EXPECT_THROW(net.register_scale_as("scale"), Error);
  EXPECT_THROW(net.register_scale_as("fc"), Error);
  EXPECT_THROW(net.register_scale_as("a.b"), Error);
  EXPECT_THROW(net.register_scale_as(""), Error);
  EXPECT_NO_THROW(net.register_scale_as("other"));
}

TEST(Sequential, NamesChildrenByIndexAndAppliesThemInOrder) {
  Generator gen(2);
  auto first = std::make_shared<Linear>(LinearOptions{3, 4}, gen);
  auto second = std::make_shared<Linear>(LinearOptions{4, 2}, gen);
  Sequential seq({first, second});
  EXPECT_EQ(names_of(seq.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
  const Tensor x = Tensor::uniform({5, 3}, gen, -1, 1);
  const Tensor expected = second->forward(first->forward(x));
  EXPECT_EQ(seq.forward(x).to_vector<float>(), expected.to_vector<float>());
}

}  // namespace
}  // namespace remix::nn
