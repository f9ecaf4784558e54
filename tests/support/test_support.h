// Helpers shared by every test suite: random tensors, closeness checks with a useful message,
// gradient checks, skipping CUDA tests on machines without a GPU, and running a CPU test with
// each instruction set's kernels.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "tensor/backend.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace remix::testing {

// Uniform values in [low, high), f32 on the CPU.
Tensor random_tensor(const Shape& shape, Generator& gen, double low = -1.0, double high = 1.0);

// Every element satisfies |a - b| <= atol + rtol * |b|; both are read as f32 on the host.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected,
                                     double atol = 1e-5, double rtol = 1e-5);

::testing::AssertionResult gradient_matches(const TensorFunction& f,
                                            const std::vector<Tensor>& inputs,
                                            const GradcheckOptions& options = {});

bool gpu_present();
// Why there is no GPU (cuda_unavailable_reason), for the message of a skipped test.
std::string why_no_gpu();
// REMIX_REQUIRE_GPU=1 in the environment: a CUDA test that finds no GPU fails instead of
// skipping, so that a run on the GPU machine cannot pass by skipping everything.
bool gpu_required();

// A parametrised test that runs with the CPU kernels of one instruction set forced ("portable",
// "avx2", "avx512"; skipped where this CPU lacks it), with the automatic choice ("fast"), or with
// the backend's naive reference loops ("reference"), and puts the automatic choice back
// afterwards. Instantiate it with kEveryInstructionSet (kernels written once per instruction set,
// checked against the reference loops), kFastKernels (kernels written once, likewise) or
// kFastAndReferenceKernels (hand-worked values and gradient checks, which hold for both), and
// cpu_kernel_name (tests then read as .../avx512).
class CpuKernelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

 private:
  bool reference_before_ = false;  // REMIX_CPU_REFERENCE=1 runs the other tests on the loops
};
inline const auto kEveryInstructionSet = ::testing::Values("portable", "avx2", "avx512");
inline const auto kFastAndReferenceKernels = ::testing::Values("fast", "reference");
inline const auto kFastKernels = ::testing::Values("fast");
inline std::string cpu_kernel_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace remix::testing

#define REMIX_SKIP_WITHOUT_GPU()                                                             \
  if (::remix::testing::gpu_present()) {                                                     \
  } else if (::remix::testing::gpu_required())                                               \
    FAIL() << "REMIX_REQUIRE_GPU=1, but no CUDA device: " << ::remix::testing::why_no_gpu(); \
  else                                                                                       \
    GTEST_SKIP() << "no CUDA device: " << ::remix::testing::why_no_gpu()

// REMIX_WITH_ASAN is 1 in a build with AddressSanitizer (g++ and clang++ say so differently),
// which reserves terabytes of address space up front: tests that bound the address space skip.
#if defined(__SANITIZE_ADDRESS__)
#define REMIX_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REMIX_WITH_ASAN 1
#endif
#endif
#ifndef REMIX_WITH_ASAN
#define REMIX_WITH_ASAN 0
#endif
