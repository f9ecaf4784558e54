// remix's own batch-norm kernels (cuda/batch_norm_kernels.cu), called directly so that every
// dtype is covered (through the primitives, f32 and most f16 shapes go to cuDNN): training
// forward with batch statistics, backward and inference, with and without the residual add and
// ReLU, against the CPU, for f32, f16 and bf16, C in {3, 10, 64, 270}, batch 1 and 128.
#include "cuda/batch_norm_kernels.h"
#include "cuda/runtime.h"
#include "tensor/primitives.h"
#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::matches_cpu_at_scale;
using testing::Operand;

constexpr double kMomentum = 0.1, kEps = 1e-5, kStatsTolerance = 1e-4;

struct OwnCase {
  int64_t n, c;
  bool residual;
  BatchNormActivation activation;
};

std::vector<OwnCase> own_cases() {
  std::vector<OwnCase> cases;
  int k = 0;
  for (int64_t n : {1, 128})
    for (int64_t c : {3, 10, 64, 270}) {
      const bool residual = k % 2 == 1;
      const auto act = k % 4 < 2 ? BatchNormActivation::relu : BatchNormActivation::none;
      cases.push_back({n, c, residual, act});
      ++k;
    }
  return cases;
}

double tolerance_for(DType dtype) {
  return dtype == DType::f32 ? 1e-4 : testing::tolerance_with_tf32(dtype);
}

Tensor gpu(const Tensor& t) {
  return t.to(Device::cuda(0));
}

struct Inputs {
  Operand x, z, dy;
  Tensor gamma, beta, running_mean, running_var;
};

Inputs make_inputs(const OwnCase& c, DType dtype, Generator& gen) {
  const Shape shape{c.n, 2, 3, c.c};
  Inputs in;
  in.x = testing::upload(testing::random_tensor(shape, gen, -2.0, 3.0), dtype);
  if (c.residual) in.z = testing::upload(testing::random_tensor(shape, gen), dtype);
  in.dy = testing::upload(testing::random_tensor(shape, gen), dtype);
  in.gamma = testing::random_tensor({c.c}, gen, 0.5, 1.5);
  in.beta = testing::random_tensor({c.c}, gen, -0.5, 0.5);
  in.running_mean = testing::random_tensor({c.c}, gen, -0.1, 0.1);
  in.running_var = testing::random_tensor({c.c}, gen, 0.5, 1.5);
  return in;
}

void expect_own_kernels_match_cpu(const OwnCase& c, DType dtype, Generator& gen) {
  SCOPED_TRACE(::testing::Message() << "N " << c.n << " C " << c.c << " " << dtype_name(dtype)
                                    << (c.residual ? " +z" : "")
                                    << (c.activation == BatchNormActivation::relu ? " relu" : ""));
  const double tolerance = tolerance_for(dtype);
  const Inputs in = make_inputs(c, dtype, gen);
  Tensor cpu_mean = in.running_mean.clone(), cpu_var = in.running_var.clone();
  const prim::BatchNormOutputs cpu =
      prim::batch_norm_training(in.x.reference, in.z.reference, in.gamma, in.beta, cpu_mean,
                                cpu_var, c.activation, kMomentum, kEps);

  const Tensor gamma = gpu(in.gamma), beta = gpu(in.beta);
  Tensor mean = gpu(in.running_mean), var = gpu(in.running_var);
  Tensor y(in.x.device.shape(), dtype, Device::cuda(0));
  Tensor save_mean({c.c}, DType::f32, Device::cuda(0)),
      save_invstd({c.c}, DType::f32, Device::cuda(0));
  BatchNormForward f;
  f.x = &in.x.device, f.z = c.residual ? &in.z.device : nullptr, f.gamma = &gamma, f.beta = &beta;
  f.running_mean = &mean, f.running_var = &var, f.activation = c.activation;
  f.momentum = kMomentum, f.eps = kEps, f.y = &y, f.save_mean = &save_mean;
  f.save_invstd = &save_invstd;
  const cudaStream_t stream = cuda::stream(Device::cuda(0));
  cuda::batch_norm_training_own(f, stream);
  EXPECT_TRUE(matches_cpu_at_scale(y, cpu.y, tolerance)) << "y";
  EXPECT_TRUE(matches_cpu_at_scale(save_mean, cpu.save_mean, kStatsTolerance)) << "mean";
  EXPECT_TRUE(matches_cpu_at_scale(save_invstd, cpu.save_invstd, kStatsTolerance)) << "invstd";
  EXPECT_TRUE(matches_cpu_at_scale(mean, cpu_mean, kStatsTolerance)) << "running mean";
  EXPECT_TRUE(matches_cpu_at_scale(var, cpu_var, kStatsTolerance)) << "running var";

  // Both sides mask the ReLU with the GPU's y (an output rounded differently near 0 must not
  // flip one element of the mask).
  const Tensor y_seen = y.to(Device::cpu()).to(DType::f32);
  const prim::BatchNormGrads expected =
      prim::batch_norm_backward(in.dy.reference, in.x.reference, y_seen, in.gamma, in.beta,
                                cpu.save_mean, cpu.save_invstd, c.activation, c.residual, kEps);
  Tensor dx(y.shape(), dtype, Device::cuda(0)), dz(y.shape(), dtype, Device::cuda(0));
  Tensor dgamma({c.c}, DType::f32, Device::cuda(0)), dbeta({c.c}, DType::f32, Device::cuda(0));
  const Tensor saved_mean = gpu(cpu.save_mean), saved_invstd = gpu(cpu.save_invstd);
  BatchNormBackward b;
  b.dy = &in.dy.device, b.x = &in.x.device, b.y = &y, b.gamma = &gamma, b.beta = &beta;
  b.save_mean = &saved_mean, b.save_invstd = &saved_invstd, b.activation = c.activation;
  b.eps = kEps, b.dx = &dx, b.dz = c.residual ? &dz : nullptr, b.dgamma = &dgamma;
  b.dbeta = &dbeta;
  cuda::batch_norm_backward_own(b, stream);
  EXPECT_TRUE(matches_cpu_at_scale(dx, expected.dx, tolerance)) << "dx";
  EXPECT_TRUE(matches_cpu_at_scale(dgamma, expected.dgamma, tolerance)) << "dgamma";
  EXPECT_TRUE(matches_cpu_at_scale(dbeta, expected.dbeta, tolerance)) << "dbeta";
  if (c.residual) EXPECT_TRUE(matches_cpu_at_scale(dz, expected.dz, tolerance)) << "dz";

  const Tensor inferred =
      prim::batch_norm_inference(in.x.reference, in.z.reference, in.gamma, in.beta, in.running_mean,
                                 in.running_var, c.activation, kEps);
  Tensor running_mean = gpu(in.running_mean), running_var = gpu(in.running_var);
  f.running_mean = &running_mean, f.running_var = &running_var;
  cuda::batch_norm_inference_own(f, stream);
  EXPECT_TRUE(matches_cpu_at_scale(y, inferred, tolerance)) << "inference";
}

TEST(CudaBatchNormOwnKernels, MatchTheCpuInF32) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(41);
  for (const OwnCase& c : own_cases()) expect_own_kernels_match_cpu(c, DType::f32, gen);
}

TEST(CudaBatchNormOwnKernels, MatchTheCpuInF16) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(42);
  for (const OwnCase& c : own_cases()) expect_own_kernels_match_cpu(c, DType::f16, gen);
}

TEST(CudaBatchNormOwnKernels, MatchTheCpuInBf16) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(43);
  for (const OwnCase& c : own_cases()) expect_own_kernels_match_cpu(c, DType::bf16, gen);
}

}  // namespace
}  // namespace remix
