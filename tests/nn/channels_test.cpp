// ChannelPad and ConcatChannels on the last (channel) axis of NHWC tensors.
#include "nn/channels.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace remix::nn {
namespace {

TEST(ChannelPad, AppendsZeroChannels) {
  ChannelPad pad(5);
  const Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3});
  const Tensor y = pad.forward(x);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 5}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 2, 3, 0, 0, 4, 5, 6, 0, 0}));
  EXPECT_THROW(pad.forward(Tensor::zeros({1, 1, 1, 6})), Error);
}

TEST(ChannelPad, PassesGradientsToTheKeptChannels) {
  Generator gen(1);
  ChannelPad pad(4);
  EXPECT_TRUE(
      testing::gradient_matches([&](const std::vector<Tensor>& in) { return pad.forward(in[0]); },
                                {testing::random_tensor({2, 2, 2, 3}, gen)}));
}

TEST(ConcatChannels, JoinsTensorsAlongTheLastAxis) {
  ConcatChannels concat;
  const Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 2, 1, 2});
  const Tensor b = Tensor::from_vector<float>({9, 8}, {1, 2, 1, 1});
  const Tensor y = concat.forward({a, b});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 3}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 2, 9, 3, 4, 8}));
}

}  // namespace
}  // namespace remix::nn
