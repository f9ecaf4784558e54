// Model summary: one row per layer that ran, with names, shapes, parameters and FLOPs.
#include "nn/summary.h"

#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "nn/models/models.h"

namespace remix::nn {
namespace {

TEST(Summary, ListsEveryLayerOfAForwardPassWithItsCosts) {
  Generator gen(1);
  auto model = make_model("resnet20", 10, gen);
  const ModelSummary s = summarize(*model, {2, 32, 32, 3});
  ASSERT_FALSE(s.rows.empty());
  EXPECT_EQ(s.rows[0].name, "conv1");
  EXPECT_EQ(s.rows[0].type, "Conv2d");
  EXPECT_EQ(s.rows[0].output, (Shape{2, 32, 32, 16}));
  EXPECT_EQ(s.rows[0].parameters, 16 * 3 * 3 * 3);
  EXPECT_EQ(s.rows[0].flops_per_image, 2 * 32 * 32 * 16 * 27);
  EXPECT_EQ(s.rows[1].name, "bn1");
  EXPECT_EQ(s.rows[1].flops_per_image, 0);
  EXPECT_EQ(s.rows.back().name, "fc");
  EXPECT_EQ(s.rows.back().output, (Shape{2, 10}));
  bool saw_shortcut = false;
  for (const auto& row : s.rows) saw_shortcut = saw_shortcut || row.name == "layer2.0.shortcut.1";
  EXPECT_TRUE(saw_shortcut);
  // Every parameter but the training-only fc_roi head takes part in the forward pass.
  EXPECT_EQ(s.total_parameters, model->parameter_count());
  EXPECT_EQ(s.forward_parameters, model->parameter_count() - model->fc_roi().parameter_count());
  int64_t flops = 0;
  for (const auto& row : s.rows) flops += row.flops_per_image;
  EXPECT_EQ(s.flops_per_image, flops);
  // ResNet-20's multiply-adds per image: stem 32*32*16*27, layer1 6 * 32*32*16*144,
  // layer2 16*16*32*144 + 5 * 16*16*32*288, layer3 8*8*64*288 + 5 * 8*8*64*576, fc 64*10:
  // 40,551,040 in all.
  const int64_t macs = 32 * 32 * 16 * 27 + 6 * 32 * 32 * 16 * 144 + 16 * 16 * 32 * 144 +
                       5 * 16 * 16 * 32 * 288 + 8 * 8 * 64 * 288 + 5 * 8 * 8 * 64 * 576 + 64 * 10;
  EXPECT_EQ(s.flops_per_image, 2 * macs);
  const std::string text = format_summary(s);
  EXPECT_NE(text.find("layer3.2.conv2"), std::string::npos);
  EXPECT_NE(text.find("multiply-add counts as 2"), std::string::npos);
  // 269,722 + fc_roi's 650, with thousands separators
  EXPECT_NE(text.find("parameters: 270,372 in total"), std::string::npos) << text;
}

TEST(Summary, LeavesTheModelInItsModeAndRecordsNothingAfterwards) {
  Generator gen(2);
  auto model = make_model("resnet20", 10, gen);
  summarize(*model, {1, 32, 32, 3});
  EXPECT_TRUE(model->is_training());
  EXPECT_EQ(static_cast<const Classifier&>(*model).named_counters().front().second, 0);
}

}  // namespace
}  // namespace remix::nn
