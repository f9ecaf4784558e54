// The CUDA data-movement primitives against the CPU backend: fill, broadcasting copy, casts
// between all dtypes, channel slicing/concatenation/padding and row gathers. All of them are
// exact, so the bytes must match.
#include <gtest/gtest.h>

#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::random_integers;
using testing::random_tensor;
using testing::same_bytes;
using testing::to_gpu;

const DType kAllTypes[] = {DType::f32, DType::f16, DType::bf16, DType::i32, DType::u8};

TEST(CudaCopy, FillStoresTheValueAsTheCpuDoesInEveryDtype) {
  REMIX_SKIP_WITHOUT_GPU();
  for (DType dtype : kAllTypes) {
    for (double value : {0.0, 2.5, -3.75, 300.0, 1e10}) {
      SCOPED_TRACE(::testing::Message() << dtype_name(dtype) << " " << value);
      Tensor gpu({3, 5, 13}, dtype, Device::cuda());
      prim::fill(gpu, value);
      EXPECT_TRUE(same_bytes(gpu, Tensor::full({3, 5, 13}, value, dtype)));
    }
  }
}

TEST(CudaCopy, BroadcastCopyMatchesTheCpuForSizeOneAndMissingAxes) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(1);
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 1, 5}, {2, 3, 4, 5}}, {{1}, {7, 3}},    {{13}, {2, 5, 13}},
      {{2, 1, 3}, {2, 5, 3}},    {{4, 1}, {4, 9}}, {{3, 5}, {3, 5}}};
  for (const auto& [from, to] : cases) {
    for (DType dtype : {DType::f32, DType::bf16, DType::u8}) {
      SCOPED_TRACE(::testing::Message()
                   << to_string(from) << " -> " << to_string(to) << " " << dtype_name(dtype));
      const Tensor x = random_integers(from, gen, 0, 200).to(dtype);
      EXPECT_TRUE(same_bytes(prim::broadcast_to(to_gpu(x), to), prim::broadcast_to(x, to)));
    }
  }
}

TEST(CudaCopy, CastBetweenAnyTwoDtypesMatchesTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(2);
  // Fractions, negatives and values beyond u8 exercise rounding, truncation and saturation.
  const Tensor values = random_tensor({7, 37}, gen, -40.0, 300.0);
  for (DType from : kAllTypes) {
    const Tensor x = values.to(from);
    for (DType to : kAllTypes) {
      SCOPED_TRACE(::testing::Message() << dtype_name(from) << " -> " << dtype_name(to));
      EXPECT_TRUE(same_bytes(prim::cast(to_gpu(x), to), prim::cast(x, to)));
    }
  }
}

TEST(CudaCopy, ChannelSliceConcatAndPadMatchTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(3);
  for (DType dtype : {DType::f32, DType::f16, DType::u8}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor a = random_integers({2, 3, 5, 13}, gen, 0, 255).to(dtype);
    const Tensor b = random_integers({2, 3, 5, 3}, gen, 0, 255).to(dtype);
    const Tensor c = random_integers({2, 3, 5, 1}, gen, 0, 255).to(dtype);
    EXPECT_TRUE(same_bytes(prim::slice_channels(to_gpu(a), 4, 7), prim::slice_channels(a, 4, 7)));
    EXPECT_TRUE(same_bytes(prim::concat_channels({to_gpu(b), to_gpu(a), to_gpu(c)}),
                           prim::concat_channels({b, a, c})));
    EXPECT_TRUE(same_bytes(prim::pad_channels(to_gpu(b), 8), prim::pad_channels(b, 8)));
  }
}

TEST(CudaCopy, IndexSelectRowsGathersRepeatedRowsAsTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(4);
  const Tensor index = Tensor::from_vector<int32_t>({4, 0, 6, 4, 2});
  for (DType dtype : {DType::f32, DType::bf16, DType::i32}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor src = random_integers({7, 3, 5}, gen, -100, 100).to(dtype);
    EXPECT_TRUE(same_bytes(prim::index_select_rows(to_gpu(src), to_gpu(index)),
                           prim::index_select_rows(src, index)));
  }
}

TEST(CudaCopy, CloneAndRoundTripKeepTheData) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(5);
  const Tensor x = random_tensor({1, 9, 3}, gen);
  const Tensor gpu = to_gpu(x);
  const Tensor copy = gpu.clone();
  EXPECT_FALSE(copy.same_storage(gpu));
  EXPECT_TRUE(same_bytes(copy, x));
}

}  // namespace
}  // namespace remix
