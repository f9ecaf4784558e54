// Data movement on the CPU: fill, broadcasting copy, casts between every pair of dtypes, channel
// slices and row gathers, each against a naive loop written here.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tensor/cpu/cpu_backend.h"
#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

constexpr DType kAllDtypes[] = {DType::f32, DType::f16, DType::bf16, DType::i32, DType::u8};

// Flat index into a tensor of shape `from` that NumPy broadcasting reads for flat index `i` of
// a tensor of shape `to`.
int64_t broadcast_source(int64_t i, const Shape& from, const Shape& to) {
  int64_t index = 0, stride = 1;
  for (size_t k = 0; k < to.size(); ++k) {
    const size_t axis = to.size() - 1 - k;
    const int64_t coordinate = i % to[axis];
    i /= to[axis];
    if (k < from.size()) {
      const int64_t size = from[from.size() - 1 - k];
      if (size != 1) index += coordinate * stride;
      stride *= size;
    }
  }
  return index;
}

// Small integers: exact in every dtype, so a round trip through any of them is lossless.
Tensor small_integers(const Shape& shape, Generator& gen) {
  std::vector<float> values(static_cast<size_t>(numel(shape)));
  for (float& v : values) v = static_cast<float>(gen.randint(101));
  return Tensor::from_vector(values, shape);
}

TEST(Fill, StoresTheValueInEveryDtype) {
  EXPECT_EQ(Tensor::full({3}, 1.5).to_vector<float>(), std::vector<float>(3, 1.5f));
  EXPECT_EQ(Tensor::full({2}, -2.25, DType::f16).to(DType::f32).to_vector<float>(),
            std::vector<float>(2, -2.25f));
  EXPECT_EQ(Tensor::full({2}, 3.0, DType::bf16).to(DType::f32).to_vector<float>(),
            std::vector<float>(2, 3.0f));
  EXPECT_EQ(Tensor::full({2}, -2.7, DType::i32).to_vector<int32_t>(), std::vector<int32_t>(2, -2));
  EXPECT_EQ(Tensor::full({2}, 7.9, DType::u8).to_vector<uint8_t>(), std::vector<uint8_t>(2, 7));
  EXPECT_EQ(Tensor::full({2}, 300, DType::u8).to_vector<uint8_t>(), std::vector<uint8_t>(2, 255));
  EXPECT_EQ(Tensor::full({2}, -5, DType::u8).to_vector<uint8_t>(), std::vector<uint8_t>(2, 0));
  EXPECT_EQ(Tensor::full({0}, 1.0).numel(), 0);
  const std::vector<float> big = Tensor::full({100000}, 0.5).to_vector<float>();
  EXPECT_EQ(big, std::vector<float>(100000, 0.5f));
}

TEST(Copy, BroadcastsLikeNumPyForEveryDtype) {
  // clang-format off
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3}, {2, 3}},       {{3}, {2, 3}},          {{2, 1}, {2, 5}},
      {{}, {4, 3}},           {{1, 1, 1}, {2, 3, 4}}, {{2, 1, 4}, {2, 3, 4}},
      {{5, 1, 1, 3}, {5, 2, 2, 3}}, {{3, 1}, {2, 3, 4}}, {{1}, {0, 3}},
      {{1, 4}, {3, 1, 4}},    {{300, 1}, {300, 150}}, {{}, {}}};
  // clang-format on
  Generator gen(1);
  for (const auto& [from, to] : cases) {
    const Tensor src = small_integers(from, gen);
    const std::vector<float> s = src.to_vector<float>();
    std::vector<float> expected(static_cast<size_t>(numel(to)));
    for (int64_t i = 0; i < numel(to); ++i) expected[i] = s[broadcast_source(i, from, to)];
    for (DType dtype : kAllDtypes) {
      const Tensor out = prim::broadcast_to(src.to(dtype), to);
      EXPECT_EQ(out.dtype(), dtype);
      EXPECT_EQ(out.shape(), to);
      EXPECT_EQ(out.to(DType::f32).to_vector<float>(), expected)
          << to_string(from) << " -> " << to_string(to) << " as " << dtype_name(dtype);
    }
  }
}

TEST(Copy, CloneIsADeepCopy) {
  Generator gen(2);
  Tensor a = testing::random_tensor({4, 5}, gen);
  Tensor b = a.clone();
  EXPECT_FALSE(b.same_storage(a));
  EXPECT_EQ(b.to_vector<float>(), a.to_vector<float>());
}

TEST(Copy, RejectsMismatchedDtypesAndShapes) {
  Tensor dst({2, 3});
  EXPECT_THROW(cpu_backend().copy(Tensor::zeros({2, 3}, DType::i32), dst), Error);
  EXPECT_THROW(cpu_backend().copy(Tensor::zeros({4}), dst), Error);
  EXPECT_THROW(cpu_backend().copy(Tensor::zeros({2, 2, 3}), dst), Error);
  EXPECT_THROW(prim::broadcast_to(Tensor::zeros({2}), {3}), Error);
}

TEST(Cast, RoundTripsExactValuesBetweenEveryPairOfDtypes) {
  const Tensor values = Tensor::from_vector<float>({0, 1, 2, 7, 100, 255}, {2, 3});
  for (DType from : kAllDtypes)
    for (DType to : kAllDtypes) {
      const Tensor out = values.to(from).to(to);
      EXPECT_EQ(out.dtype(), to);
      EXPECT_EQ(out.shape(), values.shape());
      EXPECT_EQ(out.to(DType::f32).to_vector<float>(), values.to_vector<float>())
          << dtype_name(from) << " -> " << dtype_name(to);
    }
}

TEST(Cast, FloatsToIntegersTruncateTowardZero) {
  const Tensor f = Tensor::from_vector<float>({-1.7f, -0.5f, 0.5f, 1.99f, 2.5f, 254.9f});
  EXPECT_EQ(f.to(DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 0, 1, 2, 254}));
  EXPECT_EQ(f.to(DType::u8).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 0, 1, 2, 254}));
  const Tensor h = Tensor::from_vector<float>({2.5f, -3.5f, 9.75f});
  for (DType half : {DType::f16, DType::bf16}) {
    EXPECT_EQ(h.to(half).to(DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{2, -3, 9}));
    EXPECT_EQ(h.to(half).to(DType::u8).to_vector<uint8_t>(), (std::vector<uint8_t>{2, 0, 9}));
  }
}

TEST(Cast, OutOfRangeValuesSaturateAndNanBecomesZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor f = Tensor::from_vector<float>({-3.f, 256.f, 1e10f, -1e10f, nan});
  EXPECT_EQ(f.to(DType::u8).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 255, 255, 0, 0}));
  EXPECT_EQ(f.to(DType::i32).to_vector<int32_t>(),
            (std::vector<int32_t>{-3, 256, std::numeric_limits<int32_t>::max(),
                                  std::numeric_limits<int32_t>::min(), 0}));
  const Tensor i = Tensor::from_vector<int32_t>({-1, 300, 128});
  EXPECT_EQ(i.to(DType::u8).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 255, 128}));
}

TEST(Cast, RoundsToHalfAndBfloat16AsTheHostConversions) {
  Generator gen(3);
  const Tensor x = testing::random_tensor({1000}, gen, -100.0, 100.0);
  const std::vector<float> v = x.to_vector<float>();
  const Tensor h = x.to(DType::f16), b = x.to(DType::bf16);
  const auto* hb = static_cast<const uint16_t*>(h.raw_data());
  const auto* bb = static_cast<const uint16_t*>(b.raw_data());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_EQ(hb[i], float_to_half(v[i])) << v[i];
    ASSERT_EQ(bb[i], float_to_bf16(v[i])) << v[i];
  }
  // Between the 16-bit types the value goes through f32 exactly.
  const std::vector<float> via_f32 =
      h.to(DType::f32).to(DType::bf16).to(DType::f32).to_vector<float>();
  EXPECT_EQ(h.to(DType::bf16).to(DType::f32).to_vector<float>(), via_f32);
}

TEST(Cast, RejectsDifferentShapes) {
  Tensor dst({3}, DType::i32);
  EXPECT_THROW(cpu_backend().cast(Tensor::zeros({4}), dst), Error);
}

TEST(CopyChannels, SlicesConcatenatesAndPadsTheLastAxis) {
  Generator gen(4);
  for (DType dtype : {DType::f32, DType::u8, DType::f16}) {
    const Tensor a = small_integers({2, 3, 5}, gen).to(dtype);
    const Tensor b = small_integers({2, 3, 2}, gen).to(dtype);
    const std::vector<float> va = a.to(DType::f32).to_vector<float>();
    const std::vector<float> vb = b.to(DType::f32).to_vector<float>();

    const Tensor slice = prim::slice_channels(a, 1, 3);
    const Tensor joined = prim::concat_channels({a, b});
    const Tensor padded = prim::pad_channels(b, 4);
    std::vector<float> e_slice, e_joined, e_padded;
    for (int64_t row = 0; row < 6; ++row) {
      for (int64_t c = 1; c < 4; ++c) e_slice.push_back(va[row * 5 + c]);
      for (int64_t c = 0; c < 5; ++c) e_joined.push_back(va[row * 5 + c]);
      for (int64_t c = 0; c < 2; ++c) e_joined.push_back(vb[row * 2 + c]);
      for (int64_t c = 0; c < 4; ++c) e_padded.push_back(c < 2 ? vb[row * 2 + c] : 0.0f);
    }
    EXPECT_EQ(slice.shape(), (Shape{2, 3, 3}));
    EXPECT_EQ(slice.to(DType::f32).to_vector<float>(), e_slice);
    EXPECT_EQ(joined.shape(), (Shape{2, 3, 7}));
    EXPECT_EQ(joined.to(DType::f32).to_vector<float>(), e_joined);
    EXPECT_EQ(padded.to(DType::f32).to_vector<float>(), e_padded);
  }
}

TEST(CopyChannels, RejectsRangesOutsideTheChannelsAndMismatchedShapes) {
  const Tensor a = Tensor::zeros({2, 4});
  Tensor out = Tensor::zeros({2, 3});
  EXPECT_THROW(cpu_backend().copy_channels(a, 2, out, 0, 3), Error);
  EXPECT_THROW(cpu_backend().copy_channels(a, 0, out, 1, 3), Error);
  Tensor other_rows = Tensor::zeros({3, 4});
  EXPECT_THROW(cpu_backend().copy_channels(a, 0, other_rows, 0, 2), Error);
  Tensor other_dtype = Tensor::zeros({2, 4}, DType::u8);
  EXPECT_THROW(cpu_backend().copy_channels(a, 0, other_dtype, 0, 2), Error);
  EXPECT_THROW(prim::slice_channels(a, 3, 2), Error);
}

TEST(IndexSelectRows, GathersRowsInIndexOrder) {
  Generator gen(5);
  for (DType dtype : {DType::f32, DType::u8, DType::bf16, DType::i32}) {
    const Tensor src = small_integers({5, 2, 3}, gen).to(dtype);
    const std::vector<float> s = src.to(DType::f32).to_vector<float>();
    const std::vector<int32_t> index = {4, 0, 0, 2};
    const Tensor out = prim::index_select_rows(src, Tensor::from_vector(index));
    std::vector<float> expected;
    for (int32_t i : index)
      for (int64_t k = 0; k < 6; ++k) expected.push_back(s[i * 6 + k]);
    EXPECT_EQ(out.shape(), (Shape{4, 2, 3}));
    EXPECT_EQ(out.to(DType::f32).to_vector<float>(), expected);
  }
  const Tensor none = prim::index_select_rows(Tensor::zeros({3, 2}), Tensor({0}, DType::i32));
  EXPECT_EQ(none.shape(), (Shape{0, 2}));
}

TEST(IndexSelectRows, AnIndexOutOfRangeIsAClearError) {
  const Tensor src = Tensor::zeros({3, 2});
  for (int32_t bad : {3, -1}) {
    try {
      prim::index_select_rows(src, Tensor::from_vector<int32_t>({0, bad}));
      FAIL() << "expected an error for index " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("[0, 3)"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(prim::index_select_rows(src, Tensor::zeros({2})), Error);
}

}  // namespace
}  // namespace remix
