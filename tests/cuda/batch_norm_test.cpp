// cuDNN batch norm (cuda/batch_norm.cpp) against the CPU: training forward (output, saved and
// running statistics), backward (dx, dz, dgamma, dbeta) and inference, plain and fused with a
// ReLU and a residual add, on NHWC and N x C tensors in f32, f16 and bf16.
#include "tensor/primitives.h"
#include "tests/cuda/gpu_compare.h"

namespace remix {
namespace {

using testing::Operand;

constexpr double kMomentum = 0.1, kEps = 1e-5;
constexpr auto kRelu = BatchNormActivation::relu, kNone = BatchNormActivation::none;

// Batch norm has no TF32: f32 results agree closely. The statistics are f32 sums of the same
// inputs on both sides, for every data type.
constexpr double kF32Tolerance = 1e-4, kStatsTolerance = 1e-4;

double tolerance_for(DType dtype) {
  return dtype == DType::f32 ? kF32Tolerance : testing::tolerance_with_tf32(dtype);
}

struct BnCase {
  Shape shape;
  bool residual;
  BatchNormActivation activation;
};
const BnCase kCases[] = {
    {{2, 3, 5, 13}, false, kNone},  // an odd channel count (no fused 16-bit path)
    {{2, 3, 5, 13}, true, kRelu},  {{8, 5}, false, kRelu},  // N x C, as after a linear layer
    {{1, 4, 4, 64}, false, kRelu},  // batch 1; BN + ReLU can be fused by cuDNN
    {{4, 4, 4, 64}, true, kRelu},   // BN + add + ReLU can be fused by cuDNN
    {{4, 4, 4, 64}, true, kNone},   // a residual without ReLU: the add is remix's own kernel
};

std::string describe(const BnCase& c, DType dtype) {
  return to_string(c.shape) + " " + std::string(dtype_name(dtype)) + (c.residual ? " +z" : "") +
         (c.activation == kRelu ? " relu" : "");
}

// The inputs of one case: data rounded to the dtype, f32 parameters and statistics on the CPU.
struct BnInputs {
  Operand x, z, dy;
  Tensor gamma, beta, running_mean, running_var;
};

BnInputs make_inputs(const BnCase& c, DType dtype, Generator& gen) {
  const int64_t C = c.shape.back();
  BnInputs in;
  in.x = testing::upload(testing::random_tensor(c.shape, gen, -2.0, 3.0), dtype);
  if (c.residual) in.z = testing::upload(testing::random_tensor(c.shape, gen), dtype);
  in.dy = testing::upload(testing::random_tensor(c.shape, gen), dtype);
  in.gamma = testing::random_tensor({C}, gen, 0.5, 1.5);
  in.beta = testing::random_tensor({C}, gen, -0.5, 0.5);
  in.running_mean = testing::random_tensor({C}, gen, -0.1, 0.1);
  in.running_var = testing::random_tensor({C}, gen, 0.5, 1.5);
  return in;
}

Tensor on_gpu(const Tensor& t) {
  return t.to(Device::cuda(0));
}

// Training forward and backward of one case on both devices, compared.
void expect_training_matches_cpu(const BnCase& c, DType dtype, Generator& gen) {
  SCOPED_TRACE(describe(c, dtype));
  const double tolerance = tolerance_for(dtype);
  const BnInputs in = make_inputs(c, dtype, gen);
  Tensor cpu_mean = in.running_mean.clone(), cpu_var = in.running_var.clone();
  const prim::BatchNormOutputs cpu =
      prim::batch_norm_training(in.x.reference, in.z.reference, in.gamma, in.beta, cpu_mean,
                                cpu_var, c.activation, kMomentum, kEps);
  Tensor gpu_mean = on_gpu(in.running_mean), gpu_var = on_gpu(in.running_var);
  const Tensor gamma = on_gpu(in.gamma), beta = on_gpu(in.beta);
  const prim::BatchNormOutputs gpu = prim::batch_norm_training(
      in.x.device, in.z.device, gamma, beta, gpu_mean, gpu_var, c.activation, kMomentum, kEps);
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu.y, cpu.y, tolerance)) << "y";
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu.save_mean, cpu.save_mean, kStatsTolerance))
      << "mean";
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu.save_invstd, cpu.save_invstd, kStatsTolerance))
      << "invstd";
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu_mean, cpu_mean, kStatsTolerance)) << "running mean";
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu_var, cpu_var, kStatsTolerance)) << "running var";

  // Both sides mask the ReLU with the GPU's y, so that an output that rounds differently near
  // zero cannot flip one element of the mask.
  const Tensor y_seen = gpu.y.to(Device::cpu()).to(DType::f32);
  const prim::BatchNormGrads cpu_grads =
      prim::batch_norm_backward(in.dy.reference, in.x.reference, y_seen, in.gamma, in.beta,
                                cpu.save_mean, cpu.save_invstd, c.activation, c.residual, kEps);
  const prim::BatchNormGrads gpu_grads =
      prim::batch_norm_backward(in.dy.device, in.x.device, gpu.y, gamma, beta, gpu.save_mean,
                                gpu.save_invstd, c.activation, c.residual, kEps);
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu_grads.dx, cpu_grads.dx, tolerance)) << "dx";
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu_grads.dgamma, cpu_grads.dgamma, tolerance))
      << "dgamma";
  EXPECT_TRUE(testing::matches_cpu_at_scale(gpu_grads.dbeta, cpu_grads.dbeta, tolerance))
      << "dbeta";
  if (c.residual)
    EXPECT_TRUE(testing::matches_cpu_at_scale(gpu_grads.dz, cpu_grads.dz, tolerance)) << "dz";
}

TEST(CudaBatchNorm, TrainingMatchesTheCpuInF32) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(31);
  for (const BnCase& c : kCases) expect_training_matches_cpu(c, DType::f32, gen);
}

TEST(CudaBatchNorm, TrainingMatchesTheCpuInF16) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(32);
  for (const BnCase& c : kCases) expect_training_matches_cpu(c, DType::f16, gen);
}

TEST(CudaBatchNorm, TrainingMatchesTheCpuInBf16) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(33);
  for (const BnCase& c : kCases) expect_training_matches_cpu(c, DType::bf16, gen);
}

TEST(CudaBatchNorm, InterleavedLayersEachGetTheirOwnBackward) {
  REMIX_SKIP_WITHOUT_GPU();
  // Two layers of the same shape, both forwards before both backwards (as in a network): each
  // backward must use its own forward's saved state, whatever the order.
  Generator gen(34);
  const BnCase c{{4, 4, 4, 64}, true, kRelu};
  for (const DType dtype : {DType::f32, DType::f16}) {
    SCOPED_TRACE(describe(c, dtype));
    std::vector<BnInputs> layers;
    std::vector<prim::BatchNormOutputs> outputs;
    for (int i = 0; i < 2; ++i) {
      layers.push_back(make_inputs(c, dtype, gen));
      BnInputs& in = layers.back();
      in.running_mean = on_gpu(in.running_mean), in.running_var = on_gpu(in.running_var);
      outputs.push_back(prim::batch_norm_training(in.x.device, in.z.device, on_gpu(in.gamma),
                                                  on_gpu(in.beta), in.running_mean, in.running_var,
                                                  kRelu, kMomentum, kEps));
    }
    for (int i = 1; i >= 0; --i) {
      const BnInputs& in = layers[i];
      const prim::BatchNormOutputs& out = outputs[i];
      const Tensor y_seen = out.y.to(Device::cpu()).to(DType::f32);
      const Tensor mean = out.save_mean.to(Device::cpu()),
                   invstd = out.save_invstd.to(Device::cpu());
      const prim::BatchNormGrads expected =
          prim::batch_norm_backward(in.dy.reference, in.x.reference, y_seen, in.gamma, in.beta,
                                    mean, invstd, kRelu, true, kEps);
      const prim::BatchNormGrads actual = prim::batch_norm_backward(
          in.dy.device, in.x.device, out.y, on_gpu(in.gamma), on_gpu(in.beta), out.save_mean,
          out.save_invstd, kRelu, true, kEps);
      EXPECT_TRUE(testing::matches_cpu_at_scale(actual.dx, expected.dx, tolerance_for(dtype))) << i;
      EXPECT_TRUE(testing::matches_cpu_at_scale(actual.dz, expected.dz, tolerance_for(dtype))) << i;
      EXPECT_TRUE(
          testing::matches_cpu_at_scale(actual.dgamma, expected.dgamma, tolerance_for(dtype)))
          << i;
    }
  }
}

TEST(CudaBatchNorm, BackwardWithoutItsForwardsSavedStateMatchesTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  // Copies of the saved statistics have storage of their own, so the backward cannot find what
  // its forward kept (cuDNN's reserve space) and takes the plain path with remix's ReLU mask.
  Generator gen(35);
  const BnCase c{{4, 4, 4, 64}, true, kRelu};
  for (const DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    SCOPED_TRACE(describe(c, dtype));
    const BnInputs in = make_inputs(c, dtype, gen);
    Tensor running_mean = on_gpu(in.running_mean), running_var = on_gpu(in.running_var);
    const prim::BatchNormOutputs out =
        prim::batch_norm_training(in.x.device, in.z.device, on_gpu(in.gamma), on_gpu(in.beta),
                                  running_mean, running_var, kRelu, kMomentum, kEps);
    const Tensor mean = out.save_mean.to(Device::cpu()), invstd = out.save_invstd.to(Device::cpu());
    const Tensor y_seen = out.y.to(Device::cpu()).to(DType::f32);
    const prim::BatchNormGrads expected =
        prim::batch_norm_backward(in.dy.reference, in.x.reference, y_seen, in.gamma, in.beta, mean,
                                  invstd, kRelu, true, kEps);
    const prim::BatchNormGrads actual =
        prim::batch_norm_backward(in.dy.device, in.x.device, out.y, on_gpu(in.gamma),
                                  on_gpu(in.beta), on_gpu(mean), on_gpu(invstd), kRelu, true, kEps);
    EXPECT_TRUE(testing::matches_cpu_at_scale(actual.dx, expected.dx, tolerance_for(dtype)));
    EXPECT_TRUE(testing::matches_cpu_at_scale(actual.dz, expected.dz, tolerance_for(dtype)));
    EXPECT_TRUE(
        testing::matches_cpu_at_scale(actual.dgamma, expected.dgamma, tolerance_for(dtype)));
    EXPECT_TRUE(testing::matches_cpu_at_scale(actual.dbeta, expected.dbeta, tolerance_for(dtype)));
  }
}

TEST(CudaBatchNorm, InferenceMatchesTheCpu) {
  REMIX_SKIP_WITHOUT_GPU();
  Generator gen(36);
  for (const DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    for (const BnCase& c : kCases) {
      SCOPED_TRACE(describe(c, dtype));
      const BnInputs in = make_inputs(c, dtype, gen);
      const Tensor expected =
          prim::batch_norm_inference(in.x.reference, in.z.reference, in.gamma, in.beta,
                                     in.running_mean, in.running_var, c.activation, kEps);
      const Tensor actual = prim::batch_norm_inference(in.x.device, in.z.device, on_gpu(in.gamma),
                                                       on_gpu(in.beta), on_gpu(in.running_mean),
                                                       on_gpu(in.running_var), c.activation, kEps);
      EXPECT_TRUE(testing::matches_cpu_at_scale(actual, expected, tolerance_for(dtype)));
    }
  }
}

}  // namespace
}  // namespace remix
