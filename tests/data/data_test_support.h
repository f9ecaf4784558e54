// Helpers of the data tests: a temporary folder for the files a test writes (removed with
// everything in it when the test ends), writing bytes to a file, and checking that a call throws
// a remix::Error whose message contains given pieces (a file name, the expected value).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "tensor/check.h"

namespace remix::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("remix-" + std::string(test ? test->name() : "test") + "-" +
             std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// Passes when `call` throws a remix::Error whose message contains every one of `pieces`.
inline ::testing::AssertionResult throws_error_with(const std::function<void()>& call,
                                                    const std::vector<std::string>& pieces) {
  try {
    call();
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const std::string& piece : pieces)
      if (message.find(piece) == std::string::npos)
        return ::testing::AssertionFailure()
               << "the message \"" << message << "\" does not contain \"" << piece << "\"";
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no remix::Error was thrown";
}

}  // namespace remix::testing
