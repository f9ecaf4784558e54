// remix-bench: training throughput and peak memory of one model / precision / augmentation, as
// shared/bench/torch_reference.py measures PyTorch's ("throughput"): the same random batch every
// step, SGD (lr 0.1, momentum 0.9, weight decay 5e-4), and the full training step of remix-train
// (apps/train_step.h: one-hot targets, the augmentation, forward, loss, backward, update).
// Prints one JSON line per measurement with the reference's fields:
//   {"kind": "throughput", "model": "resnet18", "mode": "amp-bf16-cl", "precision": "bf16",
//    "aug": "rm", "batch": 128, "ms_per_step": 6.1, "img_per_s": 20984.3, "peak_mem_mb": 480.2,
//    "peak_mem_kind": "device_peak_allocated", "device": "NVIDIA H100 80GB HBM3", ...}
// On a GPU, peak_mem_mb counts the bytes tensors requested, like PyTorch's max_memory_allocated;
// reserved_mem_mb is what the caching allocator holds from the driver; host_waits_per_step counts
// the uploads per timed step that waited for the device to free staging memory (0 expected).
// On the CPU, peak_mem_mb is the process's peak resident set (getrusage), labelled
// "process_peak_rss", and the other two are 0. --all runs the reference's matrix (resnet18 and
// pyramidnet164, fp32 / fp16 / bf16, aug none / rm) on a CUDA device.
#include <sys/resource.h>

#include <chrono>
#include <cmath>

#include "apps/setup.h"
#include "apps/train_step.h"
#include "augment/registry.h"
#include "data/dataset.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/reference.h"
#include "tensor/profile.h"

using namespace remix;
using namespace remix::app;

namespace {

struct BenchOptions {
  std::string model = "resnet18";
  std::string precision = "auto";
  std::string aug = "none";
  int64_t batch_size = 128;
  int64_t iters = 30;
  int64_t warmup = 8;
  std::string device = "auto";
  int compute_threads = 0;
  bool all = false;
  bool profile = false;
  bool reference_kernels = false;
};

void add_bench_options(CLI::App& app, BenchOptions& o) {
  app.add_option("--model", o.model, "Architecture")
      ->check(CLI::IsMember(nn::model_names()))
      ->capture_default_str();
  app.add_option("--precision", o.precision,
                 "fp32 | bf16 | fp16 | auto (bf16 on CUDA, fp32 on the CPU)")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16", "auto"}))
      ->capture_default_str();
  app.add_option("--aug", o.aug, "Batch augmentation")
      ->check(CLI::IsMember(augment::augmentation_names()))
      ->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "Images per step")->capture_default_str();
  app.add_option("--iters", o.iters, "Timed steps")->capture_default_str();
  app.add_option("--warmup", o.warmup, "Untimed steps first (allocator, cuDNN algorithm choice)")
      ->capture_default_str();
  app.add_option("--device", o.device, "cpu | cuda | cuda:N | auto")->capture_default_str();
  app.add_option("--compute-threads", o.compute_threads,
                 "OpenMP threads of the CPU kernels (0: OMP_NUM_THREADS, else one per core)")
      ->capture_default_str();
  app.add_flag("--profile", o.profile,
               "Also print where a step's time goes, by kind of primitive (CPU: wall time)");
  app.add_flag("--reference-kernels", o.reference_kernels,
               "Run the naive reference loops instead of the optimised CPU kernels (slow)");
  app.add_flag(
      "--all", o.all,
      "The reference matrix on CUDA: resnet18, pyramidnet164 x fp32, fp16, bf16 x none, rm");
}

// The reference's name for a precision (it runs AMP in channels-last, remix's only layout).
std::string mode_name(const std::string& precision) {
  return precision == "fp32" ? "fp32" : "amp-" + precision + "-cl";
}

double process_peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

// The profile of `iters` steps that took `step_seconds` each, as a table on stderr (stdout
// keeps one JSON line per measurement).
void print_profile(double step_seconds, int64_t iters) {
  const auto totals = profile::totals();
  double counted = 0.0;
  for (const profile::Total& t : totals) counted += t.seconds;
  const double per_step = 1e3 / static_cast<double>(iters);
  fmt::print(stderr, "{:<22} {:>10} {:>7} {:>12}\n", "kind", "ms/step", "share", "calls/step");
  for (int k = 0; k < profile::kKinds; ++k) {
    const profile::Total& t = totals[k];
    if (t.calls == 0) continue;
    fmt::print(stderr, "{:<22} {:>10.2f} {:>6.1f}% {:>12.1f}\n",
               profile::kind_name(static_cast<profile::Kind>(k)), t.seconds * per_step,
               100.0 * t.seconds / static_cast<double>(iters) / step_seconds,
               static_cast<double>(t.calls) / static_cast<double>(iters));
  }
  const double other = step_seconds * static_cast<double>(iters) - counted;
  fmt::print(stderr, "{:<22} {:>10.2f} {:>6.1f}%   (autograd, allocation, the rest)\n", "other",
             other * per_step, 100.0 * other / static_cast<double>(iters) / step_seconds);
  fmt::print(stderr, "{:<22} {:>10.2f} {:>6.1f}%\n", "step", step_seconds * 1e3, 100.0);
}

// One configuration, resolved like a training run's, with the reference's optimizer settings.
TrainConfig bench_config(const BenchOptions& o) {
  TrainConfig config;
  config.model = o.model;
  config.aug = o.aug;
  config.precision = o.precision;
  config.device = o.device;
  config.batch_size = o.batch_size;
  config.lr = 0.1;
  config.momentum = 0.9;
  config.wd = 5e-4;
  resolve_config(config);
  return config;
}

nlohmann::json measure(const BenchOptions& o) {
  const TrainConfig config = bench_config(o);
  const Device device = config_device(config);
  const DType dtype = compute_dtype(config);
  constexpr int64_t kClasses = 10;
  const std::shared_ptr<nn::Classifier> model = build_model(config, kClasses);
  const std::unique_ptr<nn::Optimizer> optimizer = build_optimizer(config, *model);
  const std::unique_ptr<augment::BatchAugmentation> augmentation =
      build_augmentation(config, kClasses);
  TrainStep step(*model, *optimizer, *augmentation, 0.0, config.precision == "fp16");

  Generator gen(config.seed);
  const Tensor images = Tensor::normal({o.batch_size, 32, 32, 3}, gen, 0.0, 1.0, device).to(dtype);
  std::vector<int32_t> label_values(static_cast<size_t>(o.batch_size));
  for (int32_t& label : label_values) label = static_cast<int32_t>(gen.randint(kClasses));
  const Tensor labels = Tensor::from_vector(label_values, {o.batch_size}, device);

  auto run_steps = [&](int64_t first, int64_t count) {
    for (int64_t i = first; i < first + count; ++i) {
      Generator step_gen(data::derive_seed({config.seed, static_cast<uint64_t>(i)}));
      step.run(images, labels, step_gen);
    }
    backend_for(device).synchronize(device);
  };
  run_steps(0, o.warmup);
  reset_peak_device_memory(device);
  const int64_t waits_before = device_upload_waits(device);
  const auto start = std::chrono::steady_clock::now();
  run_steps(o.warmup, o.iters);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto host_waits = static_cast<double>(device_upload_waits(device) - waits_before);

  const double steps = static_cast<double>(o.iters);
  const bool gpu = device.is_cuda();
  if (o.profile) {
    profile::reset();
    profile::enable(true);
    const auto profile_start = std::chrono::steady_clock::now();
    run_steps(o.warmup + o.iters, o.iters);
    const double profiled =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - profile_start).count();
    profile::enable(false);
    print_profile(profiled / steps, o.iters);
  }
  const DeviceMemoryStats memory = device_memory_stats(device);
  const double peak_mb =
      gpu ? static_cast<double>(memory.peak_allocated) / (1 << 20) : process_peak_rss_mb();
  return {{"kind", "throughput"},
          {"model", o.model},
          {"mode", mode_name(config.precision)},
          {"precision", config.precision},
          {"aug", o.aug},
          {"batch", o.batch_size},
          {"ms_per_step", rounded(1e3 * seconds / steps, 3)},
          {"img_per_s", rounded(static_cast<double>(o.batch_size) * steps / seconds, 1)},
          {"peak_mem_mb", rounded(peak_mb, 1)},
          {"peak_mem_kind", gpu ? "device_peak_allocated" : "process_peak_rss"},
          {"reserved_mem_mb", rounded(static_cast<double>(memory.reserved) / (1 << 20), 1)},
          {"host_waits_per_step", rounded(host_waits / steps, 3)},
          {"device", device_name(device)},
          {"cpu_kernels", o.reference_kernels ? "reference" : cpu::sgemm_kernel_name()},
          {"framework", "remix"}};
}

void run_matrix(BenchOptions o) {
  REMIX_CHECK(o.device != "cpu" && cuda_available(),
              "--all runs the reference's CUDA matrix; this machine or build has no CUDA device");
  for (const char* model : {"resnet18", "pyramidnet164"})
    for (const char* precision : {"fp32", "fp16", "bf16"})
      for (const char* aug : {"none", "rm"}) {
        o.model = model;
        o.precision = precision;
        o.aug = aug;
        fmt::print("{}\n", measure(o).dump());
        std::fflush(stdout);
      }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"remix-bench: training images/s and peak memory (JSON lines)"};
  BenchOptions options;
  add_bench_options(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    REMIX_CHECK(options.batch_size > 0 && options.iters > 0 && options.warmup >= 0 &&
                    options.compute_threads >= 0,
                "expected --batch-size > 0, --iters > 0, --warmup >= 0 and --compute-threads >= 0");
    set_compute_threads(options.compute_threads);
    cpu::set_reference_kernels(options.reference_kernels);
    if (options.all) {
      run_matrix(options);
    } else {
      fmt::print("{}\n", measure(options).dump());
    }
    return 0;
  } catch (const OutOfMemoryError& e) {
    fmt::print(stderr, "remix-bench: out of memory: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "remix-bench: error: {}\n", e.what());
    return 1;
  }
}
