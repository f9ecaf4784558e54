#include "tests/support/test_support.h"

#include <cmath>
#include <cstdlib>

#include "tensor/cpu/gemm.h"
#include "tensor/cpu/reference.h"

namespace remix::testing {

Tensor random_tensor(const Shape& shape, Generator& gen, double low, double high) {
  return Tensor::uniform(shape, gen, low, high);
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol,
                                     double rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << to_string(actual.shape()) << " vs "
                                         << to_string(expected.shape());
  const std::vector<float> a = actual.to(Device::cpu()).to(DType::f32).to_vector<float>();
  const std::vector<float> b = expected.to(Device::cpu()).to(DType::f32).to_vector<float>();
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::abs(static_cast<double>(a[i]) - b[i]);
    const bool nan_mismatch = std::isnan(a[i]) != std::isnan(b[i]);
    if (nan_mismatch || diff > atol + rtol * std::abs(b[i])) {
      if (bad++ == 0) first = i;
    }
    if (!std::isnan(diff)) worst = std::max(worst, diff);
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << a.size() << " elements differ (atol " << atol << ", rtol " << rtol
         << "); first at flat index " << first << ": " << a[first] << " vs " << b[first]
         << "; largest |diff| " << worst;
}

::testing::AssertionResult gradient_matches(const TensorFunction& f,
                                            const std::vector<Tensor>& inputs,
                                            const GradcheckOptions& options) {
  const GradcheckResult r = gradcheck(f, inputs, options);
  if (r.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.message;
}

bool gpu_present() {
  return cuda_available();
}

std::string why_no_gpu() {
  return cuda_unavailable_reason();
}

bool gpu_required() {
  const char* value = std::getenv("REMIX_REQUIRE_GPU");
  return value != nullptr && std::string(value) == "1";
}

void CpuKernelTest::SetUp() {
  reference_before_ = cpu::reference_kernels_enabled();
  if (GetParam() == "reference") {
    cpu::set_reference_kernels(true);
    return;
  }
  cpu::set_reference_kernels(false);  // whatever REMIX_CPU_REFERENCE says
  if (GetParam() == "fast") return;
  if (!cpu::sgemm_kernel_supported(GetParam()))
    GTEST_SKIP() << "this CPU cannot run the " << GetParam() << " kernels";
  cpu::set_sgemm_kernel(GetParam());
}

void CpuKernelTest::TearDown() {
  cpu::set_reference_kernels(reference_before_);
  cpu::set_sgemm_kernel("auto");
}

}  // namespace remix::testing
