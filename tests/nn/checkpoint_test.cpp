// Checkpoints: PyTorch names and layouts on export, strict loading, identical outputs after a
// round trip, and two-file training checkpoints.
#include "nn/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "autograd/ops.h"
#include "nn/models/models.h"
#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

namespace fs = std::filesystem;

class TinyNet : public Layer {
 public:
  explicit TinyNet(Generator& gen) : Layer("TinyNet") {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(Conv2dOptions{2, 3, 3, 1, 1}, gen));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(BatchNorm2dOptions{3}));
    fc = register_module("fc", std::make_shared<Linear>(LinearOptions{3, 2}, gen));
  }
  Tensor forward(const Tensor& x) override {
    return fc->forward(global_avg_pool(bn1->forward(conv1->forward(x), BatchNormActivation::relu)));
  }
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Linear> fc;
};

fs::path temp_dir() {
  const fs::path dir =
      fs::temp_directory_path() / (std::string("remix-checkpoint-") +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Checkpoint, ExportsPyTorchNamesOihwConvWeightsAndI64Counters) {
  Generator gen(1);
  TinyNet net(gen);
  net.forward(testing::random_tensor({2, 4, 4, 2}, gen));  // num_batches_tracked = 1
  const SafetensorsFile file = export_model(net);
  std::vector<std::string> names;
  for (const auto& e : file.tensors) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias",
                                             "bn1.running_mean", "bn1.running_var",
                                             "bn1.num_batches_tracked", "fc.weight", "fc.bias"}));
  ASSERT_NE(file.find("conv1.weight"), nullptr);
  ASSERT_NE(file.find("bn1.num_batches_tracked"), nullptr);
  const SafetensorsEntry& w = *file.find("conv1.weight");
  EXPECT_EQ(w.shape, (Shape{3, 2, 3, 3}));  // O I H W
  const auto krsc = net.conv1->weight().to_vector<float>();
  const auto* oihw = reinterpret_cast<const float*>(w.data.data());
  for (int k = 0; k < 3; ++k)
    for (int c = 0; c < 2; ++c)
      for (int r = 0; r < 3; ++r)
        for (int s = 0; s < 3; ++s)
          ASSERT_EQ(oihw[((k * 2 + c) * 3 + r) * 3 + s], krsc[((k * 3 + r) * 3 + s) * 2 + c]);
  const SafetensorsEntry& count = *file.find("bn1.num_batches_tracked");
  EXPECT_EQ(count.dtype, SafetensorsDType::I64);
  EXPECT_EQ(count.shape, Shape{});
  EXPECT_EQ(i64_scalar_value(count, "export"), 1);
  EXPECT_EQ(file.find("fc.weight")->shape, (Shape{2, 3}));
}

TEST(Checkpoint, AModelRoundTripRestoresIdenticalOutputs) {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "model.safetensors").string();
  Generator a_gen(1), b_gen(2), data(3);
  auto a = make_model("resnet20", 10, a_gen);
  auto b = make_model("resnet20", 10, b_gen);
  a->forward(testing::random_tensor({2, 32, 32, 3}, data));  // moves the running statistics
  save_model(path, *a);
  load_model(path, *b);
  a->eval();
  b->eval();
  const Tensor x = testing::random_tensor({2, 32, 32, 3}, data);
  EXPECT_EQ(a->forward(x).to_vector<float>(), b->forward(x).to_vector<float>());
  const auto counters = static_cast<const Classifier&>(*b).named_counters();
  EXPECT_EQ(counters.front().second, 1);
  fs::remove_all(dir);
}

TEST(Checkpoint, LoadingIsStrictAndNamesTheFileAndTheKey) {
  Generator gen(1);
  TinyNet net(gen);
  const SafetensorsFile good = export_model(net);

  SafetensorsFile missing = good;
  missing.tensors.erase(missing.tensors.begin() + 1);
  std::string message = error_of([&] { import_model(net, missing, "m.safetensors"); });
  EXPECT_NE(message.find("m.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("missing keys [bn1.weight]"), std::string::npos) << message;

  SafetensorsFile unexpected = good;
  unexpected.tensors.push_back(i64_scalar_entry("bn2.num_batches_tracked", 0));
  message = error_of([&] { import_model(net, unexpected, "m.safetensors"); });
  EXPECT_NE(message.find("unexpected keys [bn2.num_batches_tracked]"), std::string::npos)
      << message;

  SafetensorsFile reshaped = good;
  reshaped.tensors[0].shape = {3, 3, 3, 2};  // KRSC instead of OIHW
  message = error_of([&] { import_model(net, reshaped, "m.safetensors"); });
  EXPECT_NE(message.find("'conv1.weight'"), std::string::npos) << message;
  EXPECT_NE(message.find("[3, 2, 3, 3]"), std::string::npos) << message;

  SafetensorsFile retyped = good;
  retyped.tensors[7] = {"fc.bias", SafetensorsDType::I32, {2}, std::vector<uint8_t>(8)};
  message = error_of([&] { import_model(net, retyped, "m.safetensors"); });
  EXPECT_NE(message.find("'fc.bias' is I32"), std::string::npos) << message;
}

TEST(Checkpoint, TrainingStateTravelsInASecondFileBesideTheModel) {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "last.safetensors").string();
  EXPECT_EQ(state_path_for(path), (dir / "last.state.safetensors").string());
  Generator gen(1), data(2);
  TinyNet a(gen), b(gen);
  SGD a_opt(a.named_parameters(), 0.1, {0.9});
  SGD b_opt(b.named_parameters(), 0.1, {0.9});
  backward(sum(a.forward(testing::random_tensor({2, 4, 4, 2}, data))));
  a_opt.step();
  TrainingProgress progress;
  progress.step = 12;
  progress.info = {{"epoch", 3}, {"best_accuracy", 0.5}};
  progress.extra = {{"grad_scaler.scale", Tensor::full({1}, 1024.0)}};
  save_checkpoint(path, a, a_opt, progress);
  EXPECT_TRUE(fs::exists(state_path_for(path)));

  const TrainingProgress back = load_checkpoint(path, b, b_opt);
  EXPECT_EQ(back.step, 12);
  EXPECT_EQ(back.info.at("epoch"), 3);
  ASSERT_EQ(back.extra.size(), 1u);
  EXPECT_EQ(back.extra[0].first, "grad_scaler.scale");
  EXPECT_EQ(back.extra[0].second.item(), 1024.f);
  EXPECT_EQ(b_opt.step_count(), 1);
  const OptimizerState sa = a_opt.state_dict(), sb = b_opt.state_dict();
  ASSERT_EQ(sa.tensors.size(), sb.tensors.size());
  for (size_t i = 0; i < sa.tensors.size(); ++i) {
    EXPECT_EQ(sa.tensors[i].first, sb.tensors[i].first);
    EXPECT_EQ(sa.tensors[i].second.to_vector<float>(), sb.tensors[i].second.to_vector<float>());
  }
  EXPECT_EQ(a.fc->weight().to_vector<float>(), b.fc->weight().to_vector<float>());
  fs::remove_all(dir);
}

TEST(Checkpoint, RefusesAModelAndStatePairFromDifferentSteps) {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "last.safetensors").string();
  Generator gen(1);
  TinyNet net(gen);
  SGD opt(net.named_parameters(), 0.1);
  save_checkpoint(path, net, opt, {.step = 5});
  save_model(path, net, {{"remix.step", "6"}});  // as if a later save died between the renames
  const std::string message = error_of([&] { load_checkpoint(path, net, opt); });
  EXPECT_NE(message.find("step 6"), std::string::npos) << message;
  EXPECT_NE(message.find("step 5"), std::string::npos) << message;
  save_model(path, net);  // no step at all: not a training checkpoint
  EXPECT_THROW(load_checkpoint(path, net, opt), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace remix::nn
