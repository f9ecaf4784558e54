// Helpers of the apps tests (see apps_test_support.h).
#include "tests/apps/apps_test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace remix::app::testing {

namespace fs = std::filesystem;

TemporaryDirectory::TemporaryDirectory() {
  static std::atomic<int> counter{0};
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = test != nullptr ? std::string(test->name()) : std::string("suite");
  path_ = fs::temp_directory_path() /
          fmt::format("remix-apps-{}-{}-{}", getpid(), name, counter.fetch_add(1));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

namespace {

class TinyNet : public nn::Classifier {
 public:
  TinyNet(int64_t num_classes, Generator& gen) : Classifier("TinyNet") {
    conv1_ = register_module("conv1", nn::make_conv(3, 16, 3, 1, gen));
    bn1_ = register_module("bn1", nn::make_bn(16));
    conv2_ = register_module("conv2", nn::make_conv(16, 32, 3, 2, gen));
    bn2_ = register_module("bn2", nn::make_bn(32));
    conv3_ = register_module("conv3", nn::make_conv(32, 64, 3, 2, gen));
    bn3_ = register_module("bn3", nn::make_bn(64));
    add_heads(64, num_classes, gen);
  }

  Tensor features(const Tensor& x) override {
    const auto relu = BatchNormActivation::relu;
    const Tensor y = bn1_->forward(conv1_->forward(x), relu);
    const Tensor z = bn2_->forward(conv2_->forward(y), relu);
    return bn3_->forward(conv3_->forward(z), relu);
  }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<nn::BatchNorm2d> bn1_, bn2_, bn3_;
};

}  // namespace

std::shared_ptr<nn::Classifier> make_tiny_net(const TrainConfig& config, int64_t num_classes) {
  Generator gen(stream_seed(config.seed, RandomStream::model_init));
  auto model = std::make_shared<TinyNet>(num_classes, gen);
  model->to(config_device(config));
  return model;
}

TrainConfig small_config(const std::string& out, const std::string& aug, int64_t epochs) {
  TrainConfig config;
  config.model = "resnet20";
  config.data = "synthetic";
  config.synthetic_train = 400;
  config.synthetic_test = 100;
  config.aug = aug;
  config.epochs = epochs;
  config.batch_size = 50;
  config.lr = 0.1;
  config.device = "cpu";
  config.threads = 1;
  config.compute_threads = 1;
  config.out = out;
  resolve_config(config);
  return config;
}

TrainConfig tiny_config(const std::string& out, const std::string& aug, int64_t epochs) {
  TrainConfig config = small_config(out, aug, epochs);
  config.synthetic_train = 1200;
  config.synthetic_test = 300;
  config.batch_size = 40;
  return config;
}

std::vector<std::string> small_config_arguments(const std::string& out, const std::string& aug,
                                                int64_t epochs) {
  const std::vector<std::pair<std::string, std::string>> options = {
      {"--model", "resnet20"},
      {"--data", "synthetic"},
      {"--synthetic-train", "400"},
      {"--synthetic-test", "100"},
      {"--aug", aug},
      {"--epochs", std::to_string(epochs)},
      {"--batch-size", "50"},
      {"--lr", "0.1"},
      {"--device", "cpu"},
      {"--threads", "1"},
      {"--compute-threads", "1"},
      {"--out", out}};
  std::vector<std::string> words;
  for (const auto& [name, value] : options) words.insert(words.end(), {name, value});
  return words;
}

TrainResult train_in_process(const TrainConfig& config, const std::string& resume_from,
                             int64_t stop_after_checks) {
  TrainerHooks hooks;
  hooks.out = std::fopen("/dev/null", "w");
  hooks.make_model = make_tiny_net;
  int64_t checks = 0;
  if (stop_after_checks >= 0)
    hooks.stop_requested = [&checks, stop_after_checks] { return ++checks > stop_after_checks; };
  Trainer trainer(config, hooks);
  if (!resume_from.empty()) trainer.resume(resume_from);
  TrainResult result = trainer.run();
  std::fclose(hooks.out);
  return result;
}

ProgramResult run_program(const std::string& program, const std::vector<std::string>& arguments,
                          const std::string& signal_when_printed, int signal_number) {
  const fs::path binary = fs::read_symlink("/proc/self/exe").parent_path() / program;
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_ends[1], STDOUT_FILENO);
    dup2(pipe_ends[1], STDERR_FILENO);
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    std::vector<char*> argv;
    std::string path = binary.string();
    argv.push_back(path.data());
    std::vector<std::string> words = arguments;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_ends[1]);
  ProgramResult result;
  char buffer[4096];
  bool signalled = signal_when_printed.empty();
  for (ssize_t n; (n = read(pipe_ends[0], buffer, sizeof(buffer))) > 0;) {
    result.output.append(buffer, static_cast<size_t>(n));
    if (!signalled && result.output.find(signal_when_printed) != std::string::npos) {
      kill(pid, signal_number);
      signalled = true;
    }
  }
  close(pipe_ends[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

void expect_same_metrics(const std::vector<EpochMetrics>& actual,
                         const std::vector<EpochMetrics>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    SCOPED_TRACE(fmt::format("epoch {}", expected[i].epoch));
    EXPECT_EQ(actual[i].epoch, expected[i].epoch);
    EXPECT_EQ(actual[i].train_loss, expected[i].train_loss);
    EXPECT_EQ(actual[i].train_top1, expected[i].train_top1);
    EXPECT_EQ(actual[i].test_loss, expected[i].test_loss);
    EXPECT_EQ(actual[i].test_top1, expected[i].test_top1);
    EXPECT_EQ(actual[i].test_top5, expected[i].test_top5);
    EXPECT_EQ(actual[i].lr, expected[i].lr);
  }
}

}  // namespace remix::app::testing
