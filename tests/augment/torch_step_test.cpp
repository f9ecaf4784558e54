// One RecursiveMix training step of ResNet-20 on the CPU backend against PyTorch's, end to end:
// fixtures/torch_resnet20_step.safetensors (written by make_torch_fixture.py, which states the
// step and its entries) holds a PyTorch checkpoint, an already-mixed batch of 4 images with its
// box, soft targets, teacher probabilities and consistency weight, and PyTorch's logits, losses,
// parameter gradients and state after one SGD step. remix loads the checkpoint, runs
// mixed_batch_loss, backward and nn::SGD with the same options, and must agree on every tensor
// to a relative error ||remix - torch|| / ||torch|| <= 1e-4.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "augment/loss.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "nn/checkpoint.h"
#include "nn/models/models.h"
#include "nn/optimizer.h"

namespace remix::augment {
namespace {

constexpr double kTolerance = 1e-4;
const std::string kFixture =
    std::string(REMIX_TESTS_DIR) + "/augment/fixtures/torch_resnet20_step.safetensors";

// The entries whose names start with `prefix`, renamed without it.
nn::SafetensorsFile with_prefix(const nn::SafetensorsFile& file, const std::string& prefix) {
  nn::SafetensorsFile out;
  for (const auto& entry : file.tensors)
    if (entry.name.rfind(prefix, 0) == 0) {
      out.tensors.push_back(entry);
      out.tensors.back().name = entry.name.substr(prefix.size());
    }
  return out;
}

std::vector<float> floats_of(const nn::SafetensorsEntry& entry) {
  std::vector<float> values(entry.data.size() / sizeof(float));
  std::memcpy(values.data(), entry.data.data(), entry.data.size());
  return values;
}

// ||actual - expected|| / ||expected|| (the plain norm of the difference when expected is 0).
double relative_error(const std::vector<float>& actual, const std::vector<float>& expected) {
  EXPECT_EQ(actual.size(), expected.size());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    diff += std::pow(static_cast<double>(actual[i]) - expected[i], 2);
    norm += std::pow(static_cast<double>(expected[i]), 2);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// What the CPU backend computes for the fixture's step, run once for all the tests below.
struct RemixStep {
  nn::SafetensorsFile fixture;
  TrainingLoss loss;
  nn::NamedTensors grads;           // copied before the step, remix layout
  nn::SafetensorsFile state_after;  // export_model after the step (PyTorch names and layout)
};

Tensor input(const nn::SafetensorsFile& fixture, const std::string& name) {
  const nn::SafetensorsEntry* entry = fixture.find("input." + name);
  REMIX_CHECK(entry != nullptr, "{}: 'input.{}' is missing", kFixture, name);
  return nn::tensor_from_entry(*entry, kFixture);
}

MixedBatch fixture_batch(const nn::SafetensorsFile& fixture) {
  MixedBatch batch;
  batch.images = input(fixture, "images");
  batch.targets = input(fixture, "targets");
  batch.consistency = true;
  batch.roi_boxes = input(fixture, "roi_boxes");
  batch.teacher_probs = input(fixture, "teacher_probs");
  batch.consistency_weight = std::stod(fixture.metadata.at("consistency_weight"));
  return batch;
}

std::unique_ptr<RemixStep> run_step() {
  auto step = std::make_unique<RemixStep>();
  step->fixture = nn::read_safetensors(kFixture);
  const auto& meta = step->fixture.metadata;
  Generator gen(0);  // the initialisation is overwritten by the checkpoint
  const std::shared_ptr<nn::Classifier> model = nn::make_model("resnet20", 10, gen);
  nn::import_model(*model, with_prefix(step->fixture, "model."), kFixture);
  nn::SGD sgd(model->named_parameters(), std::stod(meta.at("lr")),
              {.momentum = std::stod(meta.at("momentum")),
               .weight_decay = std::stod(meta.at("weight_decay"))});

  step->loss = mixed_batch_loss(*model, fixture_batch(step->fixture));
  sgd.zero_grad();
  backward(step->loss.total);
  for (const auto& [name, param] : model->named_parameters()) {
    const Tensor g = grad(param);  // undefined when no loss term reaches the parameter
    step->grads.push_back({name, g.defined() ? g.clone() : Tensor()});
  }
  sgd.step();
  step->state_after = nn::export_model(*model);
  return step;
}

class TorchStep : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { step_ = run_step(); }
  static void TearDownTestSuite() { step_.reset(); }

  // The relative error of `actual` against the fixture's `name`, which must exist.
  static double error_against(const Tensor& actual, const std::string& name) {
    const nn::SafetensorsEntry* expected = step_->fixture.find(name);
    EXPECT_NE(expected, nullptr) << name << " is missing from " << kFixture;
    if (expected == nullptr) return INFINITY;
    EXPECT_EQ(actual.shape(), expected->shape) << name;
    return relative_error(actual.to_vector<float>(), floats_of(*expected));
  }

  static std::unique_ptr<RemixStep> step_;
};

std::unique_ptr<RemixStep> TorchStep::step_;

TEST_F(TorchStep, ReproducesTheLogitsAndBothLossTerms) {
  const TrainingLoss& loss = step_->loss;
  const std::vector<std::pair<std::string, Tensor>> quantities = {
      {"logits", loss.logits},
      {"main", loss.main.reshape({1})},
      {"consistency", loss.consistency.reshape({1})},
      {"loss", loss.total.reshape({1})}};
  for (const auto& [name, actual] : quantities) {
    const double error = error_against(actual, "expected." + name);
    EXPECT_LE(error, kTolerance) << name;
    RecordProperty(name + "_relative_error", fmt::format("{:.2e}", error));
  }
}

TEST_F(TorchStep, ReproducesTheGradientOfEveryParameter) {
  ASSERT_EQ(step_->grads.size(), 61u);  // 19 convolutions, 19 batch norms x 2, fc and fc_roi x 2
  double worst = 0;
  for (const auto& [name, g] : step_->grads) {
    ASSERT_TRUE(g.defined()) << name << " received no gradient";
    const double error = error_against(g, "grad." + name);
    EXPECT_LE(error, kTolerance) << name;
    worst = std::max(worst, error);
  }
  RecordProperty("worst_gradient_relative_error", fmt::format("{:.2e}", worst));
}

std::vector<float> minus(std::vector<float> a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) a[i] -= b[i];
  return a;
}

// Parameters, running statistics and num_batches_tracked: export_model gives PyTorch's names and
// layouts, so every entry compares directly with the fixture's "after." state. The state itself is
// mostly the weights before the step, so the change (after - before) is compared too.
TEST_F(TorchStep, ReproducesTheWholeStateAfterOneSgdStep) {
  const nn::SafetensorsFile expected = with_prefix(step_->fixture, "after.");
  const nn::SafetensorsFile before = with_prefix(step_->fixture, "model.");
  ASSERT_EQ(step_->state_after.tensors.size(), expected.tensors.size());
  double worst_state = 0, worst_change = 0;
  for (const auto& actual : step_->state_after.tensors) {
    const nn::SafetensorsEntry *want = expected.find(actual.name), *was = before.find(actual.name);
    ASSERT_TRUE(want != nullptr && was != nullptr) << actual.name;
    ASSERT_EQ(actual.shape, want->shape) << actual.name;
    if (actual.dtype == nn::SafetensorsDType::I64) {
      EXPECT_EQ(actual.data, want->data) << actual.name;
      continue;
    }
    const double state = relative_error(floats_of(actual), floats_of(*want));
    const double change = relative_error(minus(floats_of(actual), floats_of(*was)),
                                         minus(floats_of(*want), floats_of(*was)));
    EXPECT_LE(state, kTolerance) << actual.name;
    EXPECT_LE(change, kTolerance) << actual.name << " (after - before)";
    worst_state = std::max(worst_state, state);
    worst_change = std::max(worst_change, change);
  }
  RecordProperty("worst_state_relative_error", fmt::format("{:.2e}", worst_state));
  RecordProperty("worst_change_relative_error", fmt::format("{:.2e}", worst_change));
}

}  // namespace
}  // namespace remix::augment
