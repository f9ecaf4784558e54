// The CUDA runtime layer (cuda/runtime.h): devices, the stream and library handles of a device,
// the cuDNN version check, and error messages that name the failed call.
#include "cuda/runtime.h"

#include <cstdlib>
#include <string>

#include "cuda/sync_check.h"
#include "tests/support/test_support.h"

namespace remix {
namespace {

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no remix::Error was thrown)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Stands for any runtime call that fails with "invalid argument".
cudaError_t fail_with_invalid_value() {
  return cudaErrorInvalidValue;
}

TEST(CudaRuntime, FindsTheDevicesAndACudnn9Library) {
  REMIX_SKIP_WITHOUT_GPU();
  EXPECT_GE(cuda_device_count(), 1);
  EXPECT_FALSE(cuda::device_name(Device::cuda(0)).empty());
  EXPECT_EQ(cuda::cudnn_runtime_version() / 10000, 9u);
}

TEST(CudaRuntime, GivesEachDeviceOneNonBlockingStreamThatTheHandlesUse) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  cudaStream_t stream = cuda::stream(gpu);
  EXPECT_EQ(cuda::stream(gpu), stream);
  unsigned flags = 0;
  REMIX_CUDA_CHECK(cudaStreamGetFlags(stream, &flags));
  EXPECT_EQ(flags, static_cast<unsigned>(cudaStreamNonBlocking));
  cudaStream_t cudnn_stream = nullptr;
  REMIX_CUDNN_CHECK(cudnnGetStream(cuda::cudnn_handle(gpu), &cudnn_stream));
  EXPECT_EQ(cudnn_stream, stream);
  cudaStream_t cublas_stream = nullptr;
  REMIX_CUBLAS_CHECK(cublasGetStream(cuda::cublas_handle(gpu), &cublas_stream));
  EXPECT_EQ(cublas_stream, stream);
}

TEST(CudaRuntime, RejectsADeviceThatIsNotPresent) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device missing = Device::cuda(cuda_device_count());
  const std::string message = error_message([&] { cuda::set_device(missing); });
  EXPECT_TRUE(contains(message, to_string(missing) + " is not available")) << message;
}

TEST(CudaRuntime, CudaErrorsNameTheCallTheFileAndTheReason) {
  REMIX_SKIP_WITHOUT_GPU();
  const std::string forced = error_message([] { REMIX_CUDA_CHECK(fail_with_invalid_value()); });
  EXPECT_TRUE(contains(forced, "fail_with_invalid_value()")) << forced;
  EXPECT_TRUE(contains(forced, "runtime_test.cpp")) << forced;
  EXPECT_TRUE(contains(forced, cudaGetErrorString(cudaErrorInvalidValue))) << forced;

  const std::string real =
      error_message([] { REMIX_CUDA_CHECK(cudaSetDevice(cuda_device_count())); });
  EXPECT_TRUE(contains(real, "cudaSetDevice(cuda_device_count())")) << real;
  EXPECT_TRUE(contains(real, cudaGetErrorString(cudaErrorInvalidDevice))) << real;
  // The failure was consumed: the next launch check does not report it again.
  EXPECT_NO_THROW(REMIX_CUDA_CHECK_LAUNCH());
}

TEST(CudaRuntime, CudnnErrorsNameTheCallAndTheReason) {
  REMIX_SKIP_WITHOUT_GPU();
  cuda::stream(Device::cuda(0));  // cuDNN is checked and loaded with the device's handles
  cudnnTensorDescriptor_t desc = nullptr;
  REMIX_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc));
  const std::string message = error_message([&] {
    REMIX_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, -1, 3, 4, 4));
  });
  cudnnDestroyTensorDescriptor(desc);
  EXPECT_TRUE(contains(message, "cudnnSetTensor4dDescriptor(")) << message;
  EXPECT_TRUE(contains(message, "runtime_test.cpp")) << message;
  EXPECT_TRUE(contains(message, "BAD_PARAM")) << message;
}

TEST(CudaRuntime, CublasErrorsNameTheCallAndTheReason) {
  REMIX_SKIP_WITHOUT_GPU();
  cublasHandle_t handle = cuda::cublas_handle(Device::cuda(0));
  const float one = 1.0f, zero = 0.0f;
  const std::string message = error_message([&] {
    // m = -1 is an invalid argument.
    REMIX_CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, -1, 1, 1, &one, nullptr, 1,
                                   nullptr, 1, &zero, nullptr, 1));
  });
  EXPECT_TRUE(contains(message, "cublasSgemm(")) << message;
  EXPECT_TRUE(contains(message, "CUBLAS_STATUS_INVALID_VALUE")) << message;
}

// Runs on every machine: a GPU that is not found says why (the driver's answer).
TEST(CudaRuntime, SaysWhyNoDeviceIsAvailable) {
  const std::string why = cuda_unavailable_reason();
  EXPECT_EQ(why.empty(), cuda_available()) << why;
  if (!cuda_available()) EXPECT_TRUE(contains(why, "cudaGetDeviceCount")) << why;
}

TEST(CudaRuntime, RequireGpuIsReadFromTheEnvironment) {
  const char* before = std::getenv("REMIX_REQUIRE_GPU");
  const std::string saved = before != nullptr ? before : "";
  setenv("REMIX_REQUIRE_GPU", "1", 1);
  EXPECT_TRUE(testing::gpu_required());
  setenv("REMIX_REQUIRE_GPU", "0", 1);
  EXPECT_FALSE(testing::gpu_required());
  unsetenv("REMIX_REQUIRE_GPU");
  EXPECT_FALSE(testing::gpu_required());
  if (before != nullptr) setenv("REMIX_REQUIRE_GPU", saved.c_str(), 1);
}

TEST(CudaSyncCheck, NamesThePrimitiveAfterWhichTheRuntimeReportedAnError) {
  REMIX_SKIP_WITHOUT_GPU();
  const Device gpu = Device::cuda(0);
  EXPECT_NO_THROW(cuda::check_after_primitive("fill", gpu));
  // An invalid device ordinal is reported at once and leaves the context usable.
  EXPECT_NE(cudaSetDevice(cuda_device_count()), cudaSuccess);
  const std::string message =
      error_message([&] { cuda::check_after_primitive("conv2d_forward", gpu); });
  EXPECT_TRUE(contains(message, "conv2d_forward")) << message;
  EXPECT_TRUE(contains(message, cudaGetErrorString(cudaErrorInvalidDevice))) << message;
  EXPECT_NO_THROW(cuda::check_after_primitive("fill", gpu));  // the error was consumed
}

TEST(CudaSyncCheck, TheCheckedBackendComputesWhatTheCudaBackendDoes) {
  REMIX_SKIP_WITHOUT_GPU();
  Tensor t({3, 5}, DType::f32, Device::cuda(0));
  cuda::sync_checked_backend().fill(t, 2.5);
  Tensor twice({3, 5}, DType::f32, Device::cuda(0));
  cuda::sync_checked_backend().binary(BinaryOp::add, t, t, twice);
  EXPECT_TRUE(testing::all_close(twice, Tensor::full({3, 5}, 5.0f)));
}

}  // namespace
}  // namespace remix
