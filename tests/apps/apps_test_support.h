// Helpers of the apps tests: a fresh temporary directory per test, a small synthetic training
// configuration, running remix-train in-process (Trainer) or as a program (its exit status and
// output), and reading a run's files.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "apps/metrics.h"
#include "apps/train_config.h"
#include "apps/trainer.h"

namespace remix::app::testing {

// A new empty directory under the system's temporary folder, removed by the destructor.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A small synthetic set (400 training and 100 test images, batches of 50: 8 steps per epoch) for
// ResNet-20 on the CPU in fp32, one compute thread, resolved, writing into `out`.
TrainConfig small_config(const std::string& out, const std::string& aug = "none",
                         int64_t epochs = 2);

// The in-process tests' run: 1,200 training and 300 test images in batches of 40 (30 steps per
// epoch), 3 epochs, otherwise small_config. The tiny network below reaches 36-50% test top-1
// with it for every augmentation (seeds 0-2), against 10% for chance.
TrainConfig tiny_config(const std::string& out, const std::string& aug = "none",
                        int64_t epochs = 3);

// Three 3x3 convolutions with batch norm and ReLU (16, 32 and 64 channels; the last two with
// stride 2) and the two heads: about a tenth of ResNet-20's arithmetic, so that the in-process
// tests can train it for several epochs in seconds.
std::shared_ptr<nn::Classifier> make_tiny_net(const TrainConfig& config, int64_t num_classes);

// Trains the tiny network in-process, printing nothing; the stop hook returns true from its
// (k+1)-th call on when stop_after_checks = k >= 0 (it is asked before every step and after
// every epoch).
TrainResult train_in_process(const TrainConfig& config, const std::string& resume_from = "",
                             int64_t stop_after_checks = -1);

struct ProgramResult {
  int exit_status = -1;
  std::string output;  // stdout and stderr together
};
// Runs build/bin/<program> (beside the test binary) with `arguments`, each passed as one word,
// and waits for it. With `signal_when_printed`, sends `signal_number` to the program once its
// output contains that text.
ProgramResult run_program(const std::string& program, const std::vector<std::string>& arguments,
                          const std::string& signal_when_printed = "", int signal_number = 0);

// The command-line words that give remix-train the settings of small_config.
std::vector<std::string> small_config_arguments(const std::string& out, const std::string& aug,
                                                int64_t epochs);

// EXPECTs that two metrics files agree exactly on every field but the timings.
void expect_same_metrics(const std::vector<EpochMetrics>& actual,
                         const std::vector<EpochMetrics>& expected);

}  // namespace remix::app::testing
