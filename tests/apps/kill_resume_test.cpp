// remix-train killed with SIGKILL at random instants inside its checkpoint saves, at least 30
// times, and resumed with `--resume RUN` after every kill, with no other help: each resume must
// start, and the run must end with exactly the metrics of a run that was never killed, with
// best.safetensors holding the best epoch's model. A kill counts as one inside a save when the
// run directory shows the save unfinished afterwards; the instants are drawn over the duration
// of a save measured on the uninterrupted run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "nn/checkpoint_store.h"
#include "tests/apps/apps_test_support.h"

namespace remix::app {
namespace {

namespace fs = std::filesystem;
using testing::TemporaryDirectory;

constexpr int kKillsDuringSaves = 30;
constexpr int kMaxKills = 100;

// ResNet-20 on 32 synthetic images, one step of 8 per epoch: an epoch is a step, an evaluation
// of 16 images and a save, so that saves take a good share of the time.
std::vector<std::string> run_arguments(const std::string& out) {
  return {"--model",
          "resnet20",
          "--data",
          "synthetic",
          "--synthetic-train",
          "32",
          "--synthetic-test",
          "16",
          "--batch-size",
          "8",
          "--max-steps-per-epoch",
          "1",
          "--epochs",
          "60",
          "--aug",
          "rm",
          "--device",
          "cpu",
          "--threads",
          "0",
          "--compute-threads",
          "1",
          "--out",
          out};
}

// Starts build/bin/remix-train with `arguments`, its output appended to `log`.
pid_t start_remix_train(const std::vector<std::string>& arguments, const std::string& log) {
  const fs::path binary = fs::read_symlink("/proc/self/exe").parent_path() / "remix-train";
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<std::string> words = arguments;
    std::string path = binary.string();
    std::vector<char*> argv = {path.data()};
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

using Clock = std::chrono::steady_clock;

// Watches a run directory for the start of a save (a step-N.tmp folder appears in checkpoints/)
// and for its end (last.safetensors is switched to the new unit).
class SaveWatcher {
 public:
  enum class Event { started, finished, exited };

  explicit SaveWatcher(const fs::path& run) {
    fs::create_directories(run / "checkpoints");
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    units_ = inotify_add_watch(fd_, (run / "checkpoints").c_str(), IN_CREATE);
    links_ = inotify_add_watch(fd_, run.c_str(), IN_MOVED_TO);
  }
  ~SaveWatcher() { close(fd_); }
  bool watching() const { return fd_ >= 0 && units_ >= 0 && links_ >= 0; }

  // The next start or end of a save of process `pid`, or `exited` once it has exited (its wait
  // status in `status`) with no event left.
  Event next(pid_t pid, int& status) {
    while (pending_.empty()) {
      pollfd ready{fd_, POLLIN, 0};
      if (poll(&ready, 1, 5) > 0) {
        read_events();
      } else if (waitpid(pid, &status, WNOHANG) == pid) {
        read_events();
        if (pending_.empty()) return Event::exited;
      }
    }
    const Event event = pending_.front();
    pending_.pop_front();
    return event;
  }

 private:
  void read_events() {
    alignas(inotify_event) char buffer[4096];
    const ssize_t n = read(fd_, buffer, sizeof(buffer));
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buffer + at);
      const std::string name = e->len > 0 ? e->name : "";
      if (e->wd == units_ && name.ends_with(".tmp")) pending_.push_back(Event::started);
      if (e->wd == links_ && name == "last.safetensors") pending_.push_back(Event::finished);
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }

  int fd_ = -1, units_ = -1, links_ = -1;
  std::deque<Event> pending_;
};

// Runs remix-train to its end, watching it, and returns how long its saves took (median).
Clock::duration run_measuring_saves(const std::vector<std::string>& arguments, const fs::path& run,
                                    const std::string& log) {
  SaveWatcher watcher(run);
  EXPECT_TRUE(watcher.watching());
  const pid_t pid = start_remix_train(arguments, log);
  std::vector<Clock::duration> saves;
  Clock::time_point started;
  int status = 0;
  for (SaveWatcher::Event e; (e = watcher.next(pid, status)) != SaveWatcher::Event::exited;) {
    if (e == SaveWatcher::Event::started) started = Clock::now();
    if (e == SaveWatcher::Event::finished) saves.push_back(Clock::now() - started);
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(saves.empty());
  if (saves.empty()) return std::chrono::milliseconds(5);
  std::sort(saves.begin(), saves.end());
  return saves[saves.size() / 2];
}

// Whether the run directory shows a save that did not finish: an unfinished unit or link, a
// complete unit that `last` does not name yet, or one the clean-up has not deleted yet.
bool shows_an_unfinished_save(const fs::path& run) {
  const nn::CheckpointStore store(run);
  for (const fs::directory_entry& e : fs::directory_iterator(run / "checkpoints"))
    if (e.path().filename().string().ends_with(".tmp")) return true;
  if (fs::exists(fs::symlink_status(run / "last.safetensors.tmp")) ||
      fs::exists(fs::symlink_status(run / "best.safetensors.tmp")))
    return true;
  const std::vector<int64_t> steps = store.complete_steps();
  if (steps.empty()) return false;
  const std::optional<int64_t> last = store.linked_step("last"), best = store.linked_step("best");
  if (last != steps.back()) return true;
  for (int64_t step : steps)
    if (step != last && step != best) return true;
  return false;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(RemixTrainKilled, ResumesAfterEveryKillDuringASaveAndEndsAsIfNeverKilled) {
  TemporaryDirectory dir;
  const Clock::duration save = run_measuring_saves(run_arguments(dir / "reference"),
                                                   dir / "reference", dir / "reference.txt");
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  SCOPED_TRACE(::testing::Message() << "random seed " << seed);

  // Every launch is killed at a random instant of its first save; the next one resumes.
  const fs::path run = dir / "run";
  SaveWatcher watcher(run);
  ASSERT_TRUE(watcher.watching());
  const std::string log = dir / "log.txt";
  std::uniform_int_distribution<Clock::rep> instant(0, save.count());
  int kills = 0, kills_during_saves = 0;
  while (kills_during_saves < kKillsDuringSaves) {
    ASSERT_LT(kills, kMaxKills) << "too few kills landed inside a save";
    const pid_t pid = start_remix_train(
        kills == 0 ? run_arguments(run.string()) : std::vector<std::string>{"--resume", run}, log);
    int status = 0;
    SaveWatcher::Event event;
    while ((event = watcher.next(pid, status)) == SaveWatcher::Event::finished) {
    }
    if (event == SaveWatcher::Event::exited) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_text(log);
      break;  // the run has ended: too few epochs for the kills
    }
    std::this_thread::sleep_for(Clock::duration(instant(random)));
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "it exited before the kill:\n" << read_text(log);
    ++kills;
    kills_during_saves += shows_an_unfinished_save(run) ? 1 : 0;
  }
  std::printf("%d kills, %d of them inside a save (saves take %.1f ms)\n", kills,
              kills_during_saves, std::chrono::duration<double, std::milli>(save).count());
  EXPECT_GE(kills_during_saves, kKillsDuringSaves);

  const testing::ProgramResult rest = testing::run_program("remix-train", {"--resume", run});
  ASSERT_EQ(rest.exit_status, 0) << rest.output;
  const std::vector<EpochMetrics> metrics = read_metrics(run / "metrics.jsonl");
  testing::expect_same_metrics(metrics, read_metrics(dir / "reference/metrics.jsonl"));

  double best = 0;
  for (const EpochMetrics& m : metrics) best = std::max(best, m.test_top1);
  const testing::ProgramResult eval = testing::run_program(
      "remix-train", {"--eval-only", run / "best.safetensors", "--threads", "0"});
  ASSERT_EQ(eval.exit_status, 0) << eval.output;
  const size_t json = eval.output.rfind("\n{");
  ASSERT_NE(json, std::string::npos) << eval.output;
  EXPECT_EQ(nlohmann::json::parse(eval.output.substr(json + 1)).at("test_top1").get<double>(),
            best);
}

}  // namespace
}  // namespace remix::app
