// One RecursiveMix training step of ResNet-20 on the CPU backend against PyTorch's, end to end:
// fixtures/torch_resnet20_step.safetensors (written by make_torch_fixture.py, which states the
// step and its entries) holds an already-mixed batch of 4 images with its box, soft targets,
// teacher probabilities and consistency weight, and PyTorch's logits, losses, parameter
// gradients and state after one SGD step. Both sides start from the same weights, derived from
// each entry's name (derived_state below, derived_value in the script). remix runs
// mixed_batch_loss, backward and nn::SGD with the same options, and must agree on every tensor
// to a relative error ||remix - torch|| / ||torch|| <= 1e-4; the SGD step direction, stored in
// f16, to 1e-3 of itself.
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
constexpr double kF16Tolerance = 1e-3;  // f16 rounds to 2^-11 of the value
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
  if (entry.dtype == nn::SafetensorsDType::F16)
    return nn::tensor_from_entry(entry, kFixture).to(DType::f32).to_vector<float>();
  std::vector<float> values(entry.data.size() / sizeof(float));
  std::memcpy(values.data(), entry.data.data(), entry.data.size());
  return values;
}

// ------------------------------------------------- the starting weights, as the script derives them
uint64_t fnv1a64(const std::string& text) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char byte : text) h = (h ^ byte) * 0x100000001B3ull;
  return h;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// (centre, half width) of an entry's uniform values (value_range in the script).
std::pair<double, double> value_range(const std::string& name, const Shape& shape) {
  const auto ends_with = [&](const char* tail) { return name.ends_with(tail); };
  if (name.starts_with("fc")) return {0.0, 1.0 / 8.0};
  if (shape.size() == 4) return {0.0, 1.0 / std::sqrt(double(shape[1] * shape[2] * shape[3]))};
  if (ends_with("running_var")) return {1.25, 0.75};
  if (ends_with("running_mean")) return {0.0, 0.5};
  return ends_with("weight") ? std::pair{1.0, 0.5} : std::pair{0.0, 0.2};
}

// Element i of entry `name`: centre + half * (2u - 1), u = (splitmix64(fnv1a64(name) + i) >> 40)
// / 2^24, in double, rounded to f32. Every f32 entry of a fresh model's export (PyTorch's names
// and layout) is filled so; num_batches_tracked stays 0.
nn::SafetensorsFile derived_state(const nn::Module& model) {
  nn::SafetensorsFile state = nn::export_model(model);
  for (nn::SafetensorsEntry& entry : state.tensors) {
    if (entry.dtype != nn::SafetensorsDType::F32) continue;
    const auto [centre, half] = value_range(entry.name, entry.shape);
    const uint64_t seed = fnv1a64(entry.name);
    std::vector<float> values(entry.data.size() / sizeof(float));
    for (size_t i = 0; i < values.size(); ++i) {
      const double u = double(splitmix64(seed + i) >> 40) / 16777216.0;
      values[i] = static_cast<float>(centre + half * (2.0 * u - 1.0));
    }
    std::memcpy(entry.data.data(), values.data(), entry.data.size());
  }
  return state;
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
  nn::SafetensorsFile state_before;  // derived_state (PyTorch names and layout)
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
  Generator gen(0);  // the initialisation is overwritten by the derived state
  const std::shared_ptr<nn::Classifier> model = nn::make_model("resnet20", 10, gen);
  step->state_before = derived_state(*model);
  nn::import_model(*model, step->state_before, "the derived state");
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

// (before - after) / lr, element by element: the step direction g + wd * p of SGD's first step.
std::vector<float> step_direction(const std::vector<float>& before, const std::vector<float>& after,
                                  double lr) {
  std::vector<float> out(before.size());
  for (size_t i = 0; i < before.size() && i < after.size(); ++i)
    out[i] = static_cast<float>((double(before[i]) - after[i]) / lr);
  return out;
}

// export_model gives PyTorch's names and layouts. A parameter after the step is mostly its value
// before, so its step direction is compared, with PyTorch's stored in f16 (after = before - lr *
// step, to about 1e-7 of the weights); running statistics and num_batches_tracked directly.
TEST_F(TorchStep, ReproducesTheWholeStateAfterOneSgdStep) {
  const nn::SafetensorsFile steps = with_prefix(step_->fixture, "step.");
  const nn::SafetensorsFile buffers = with_prefix(step_->fixture, "after.");
  const double lr = std::stod(step_->fixture.metadata.at("lr"));
  ASSERT_EQ(step_->state_after.tensors.size(), steps.tensors.size() + buffers.tensors.size());
  double worst_step = 0, worst_buffer = 0;
  for (const auto& actual : step_->state_after.tensors) {
    const nn::SafetensorsEntry* before = step_->state_before.find(actual.name);
    ASSERT_NE(before, nullptr) << actual.name;
    if (const nn::SafetensorsEntry* step = steps.find(actual.name)) {
      ASSERT_EQ(actual.shape, step->shape) << actual.name;
      const double error = relative_error(
          step_direction(floats_of(*before), floats_of(actual), lr), floats_of(*step));
      EXPECT_LE(error, kF16Tolerance) << actual.name << " (before - after) / lr";
      worst_step = std::max(worst_step, error);
      continue;
    }
    const nn::SafetensorsEntry* want = buffers.find(actual.name);
    ASSERT_NE(want, nullptr) << actual.name << " is neither a step nor an after entry";
    ASSERT_EQ(actual.shape, want->shape) << actual.name;
    if (actual.dtype == nn::SafetensorsDType::I64) {
      EXPECT_EQ(actual.data, want->data) << actual.name;
      continue;
    }
    const double error = relative_error(floats_of(actual), floats_of(*want));
    EXPECT_LE(error, kTolerance) << actual.name;
    worst_buffer = std::max(worst_buffer, error);
  }
  RecordProperty("worst_step_relative_error", fmt::format("{:.2e}", worst_step));
  RecordProperty("worst_buffer_relative_error", fmt::format("{:.2e}", worst_buffer));
}

}  // namespace
}  // namespace remix::augment
