// Tensor basics: shapes, factories, views, conversions, printing, misuse.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tensor/primitives.h"
#include "tensor/random.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

TEST(Shape, BroadcastAlignsOnTheRightAndStretchesSizeOne) {
  EXPECT_EQ(broadcast_shapes({2, 1, 4}, {3, 1}), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes({}, {5}), (Shape{5}));
  EXPECT_EQ(broadcast_shapes({0, 3}, {1, 3}), (Shape{0, 3}));
  EXPECT_THROW(broadcast_shapes({2, 3}, {4, 3}), Error);
}

TEST(Shape, ReducedShapeDropsOrKeepsAxes) {
  EXPECT_EQ(reduced_shape({2, 3, 4}, {0, 2}, false), (Shape{3}));
  EXPECT_EQ(reduced_shape({2, 3, 4}, {0, 2}, true), (Shape{1, 3, 1}));
  EXPECT_EQ(normalize_axes({-1, 0}, 3), (std::vector<int>{0, 2}));
  EXPECT_THROW(normalize_axes({0, -3}, 3), Error);
  EXPECT_THROW(normalize_axis(3, 3), Error);
}

TEST(Tensor, FactoriesFillTheRequestedValues) {
  EXPECT_EQ(Tensor::zeros({2, 2}).to_vector<float>(), std::vector<float>(4, 0.f));
  EXPECT_EQ(Tensor::ones({3}, DType::i32).to_vector<int32_t>(), std::vector<int32_t>(3, 1));
  EXPECT_EQ(Tensor::full({2}, 7, DType::u8).to_vector<uint8_t>(), std::vector<uint8_t>(2, 7));
  EXPECT_EQ(Tensor::arange(4).to_vector<float>(), (std::vector<float>{0, 1, 2, 3}));
  const Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.size(-1), 3);
  EXPECT_EQ(t.nbytes(), 24u);
}

TEST(Tensor, CpuMemoryIs64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    const Tensor t({n}, DType::u8);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  }
}

TEST(Tensor, SeededGeneratorsReproduceTheirDraws) {
  Generator a(42), b(42), c(43);
  const Tensor x = Tensor::normal({100}, a), y = Tensor::normal({100}, b);
  const Tensor z = Tensor::normal({100}, c);
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  EXPECT_NE(x.to_vector<float>(), z.to_vector<float>());
  const std::vector<float> u = Tensor::uniform({1000}, a, 2.0, 3.0).to_vector<float>();
  for (float v : u) EXPECT_TRUE(v >= 2.0f && v < 3.0f);
}

TEST(Tensor, GeneratorDistributionsHaveTheirMoments) {
  Generator gen(7);
  const int n = 20000;
  double sum = 0, sum_sq = 0, beta_sum = 0;
  for (int i = 0; i < n; ++i) {
    const double x = gen.normal();
    sum += x;
    sum_sq += x * x;
    beta_sum += gen.beta(2.0, 3.0);
  }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.04);
  EXPECT_NEAR(beta_sum / n, 0.4, 0.01);  // E[Beta(a, b)] = a / (a + b)
  std::vector<int> counts(5, 0);
  for (int i = 0; i < n; ++i) ++counts[gen.randint(5)];
  for (int c : counts) EXPECT_NEAR(c, n / 5, 300);
}

TEST(Tensor, GeneratorStateRoundTripsThroughText) {
  Generator a(3);
  a.uniform();
  const std::string saved = a.state();
  const double next = a.uniform();
  Generator b(99);
  b.set_state(saved);
  EXPECT_EQ(b.uniform(), next);
  EXPECT_THROW(b.set_state("not a state"), Error);
}

TEST(Tensor, ReshapeIsAViewOfTheSameMemory) {
  Tensor t = Tensor::arange(6);
  Tensor v = t.reshape({2, -1});
  EXPECT_EQ(v.shape(), (Shape{2, 3}));
  EXPECT_TRUE(v.same_storage(t));
  v.data<float>()[5] = 42;
  EXPECT_EQ(t.to_vector<float>()[5], 42);
  EXPECT_THROW(t.reshape({4, -1}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
  EXPECT_THROW(t.reshape({7}), Error);
}

TEST(Tensor, HalfAndBfloat16ConversionsRoundToNearestEven) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);            // overflow to +inf
  EXPECT_EQ(float_to_half(5.9604645e-8f), 0x0001);   // smallest subnormal
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);  // tie -> even
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));
  for (float f : {0.0f, 1.5f, -3.25f, 1e-5f, 1000.0f}) {
    EXPECT_NEAR(half_to_float(float_to_half(f)), f, std::abs(f) * 1e-3 + 1e-7);
    EXPECT_NEAR(bf16_to_float(float_to_bf16(f)), f, std::abs(f) * 8e-3);
  }
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
}

TEST(Tensor, ToDtypeConvertsEveryPairOfTypes) {
  const Tensor f = Tensor::from_vector<float>({-1.5f, 0.f, 2.75f, 200.f});
  EXPECT_EQ(f.to(DType::i32).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 2, 200}));
  EXPECT_EQ(f.to(DType::bf16).to(DType::f32).to_vector<float>(), f.to_vector<float>());
  EXPECT_EQ(f.to(DType::f16).to(DType::f32).to_vector<float>(), f.to_vector<float>());
  const Tensor u = Tensor::from_vector<uint8_t>({0, 7, 255});
  EXPECT_EQ(u.to(DType::f32).to_vector<float>(), (std::vector<float>{0, 7, 255}));
  EXPECT_EQ(u.to(DType::i32).to(DType::u8).to_vector<uint8_t>(), u.to_vector<uint8_t>());
}

TEST(Tensor, MisuseGivesAClearError) {
  const Tensor f = Tensor::zeros({2});
  EXPECT_THROW(f.data<int32_t>(), Error);
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_THROW(Tensor({-1}), Error);
  EXPECT_THROW((Tensor::from_vector<float>({1, 2, 3}, {2, 2})), Error);
  EXPECT_THROW(f.item(), Error);
  if (!cuda_available()) EXPECT_THROW(f.to(Device::cuda()), Error);
  EXPECT_EQ(cuda_unavailable_reason().empty(), cuda_available());
  try {
    prim::binary(BinaryOp::add, Tensor::zeros({2, 3}), Tensor::zeros({4, 3}));
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prim::binary(BinaryOp::add, Tensor::zeros({2}), Tensor::zeros({2}, DType::i32)),
               Error);
}

TEST(Tensor, PrintingShowsShapeDtypeAndValues) {
  const Tensor t = Tensor::from_vector<float>({1, 2.5, 3, 4}, {2, 2});
  const std::string s = t.to_string();
  EXPECT_NE(s.find("shape=[2, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("[[1, 2.5], [3, 4]]"), std::string::npos) << s;
  const std::string big = Tensor::zeros({100}).to_string();
  EXPECT_NE(big.find("..."), std::string::npos);
}

TEST(Device, ParsesCpuAndCudaNames) {
  EXPECT_EQ(parse_device("cpu"), Device::cpu());
  EXPECT_EQ(parse_device("cuda:1"), Device::cuda(1));
  EXPECT_EQ(to_string(Device::cuda(2)), "cuda:2");
  EXPECT_THROW(parse_device("gpu"), Error);
  EXPECT_THROW(parse_device("cuda:x"), Error);
}

}  // namespace
}  // namespace remix
