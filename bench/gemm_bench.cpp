// remix-gemm-bench: how fast remix's CPU matrix product (remix::cpu::sgemm) is, in GFLOP/s and as
// a share of the machine's peak, on square products C = A @ B (single precision, row-major).
// How the peak is computed is printed with the results and explained in bench/README.md.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tensor/check.h"
#include "tensor/cpu/gemm.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Clock frequency of the calling core, in GHz, from a chain of dependent register additions:
// each addition needs the result of the one before and takes one cycle, so the chain runs at
// one addition per cycle whatever else the core could do in parallel. The empty asm statements
// make the compiler keep every addition (x "may have changed" after each one), and the step is
// a register, not a constant, so that no core can fold the additions at register renaming.
double addition_chain_ghz(int64_t additions) {
  uint64_t x = 0, step = 1;
  asm volatile("" : "+r"(step));
  const Clock::time_point start = Clock::now();
  for (int64_t i = 0; i < additions; i += 8) {
#pragma GCC unroll 8
    for (int u = 0; u < 8; ++u) {
      x += step;
      asm volatile("" : "+r"(x));
    }
  }
  const double seconds = seconds_since(start);
  REMIX_CHECK(x == static_cast<uint64_t>(additions), "clock measurement: the chain was broken");
  return static_cast<double>(additions) / seconds / 1e9;
}

// The clock with every thread running chains at once (cores may clock lower when all are busy),
// averaged over the threads. Each thread keeps its fastest of many short chains: anything else
// running on the machine can only make a chain look slower, and a short one often runs alone.
double measure_clock_ghz(int threads, int64_t additions, int chains) {
  std::vector<double> ghz(threads, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double& best = ghz[omp_get_thread_num()];
    for (int c = 0; c < chains; ++c) best = std::max(best, addition_chain_ghz(additions));
  }
  double sum = 0.0;
  for (double g : ghz) sum += g;
  return sum / threads;
}

// The nominal clock the kernel reports in /proc/cpuinfo, for comparison (0 if unavailable).
double cpuinfo_mhz() {
  std::ifstream file("/proc/cpuinfo");
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("cpu MHz", 0) == 0) return std::stod(line.substr(line.find(':') + 1));
  }
  return 0.0;
}

struct IsaPeak {
  double flops_per_cycle;
  std::string how;
};

// Single-precision FLOPs per cycle and core of the instruction set a kernel uses.
IsaPeak isa_peak(const std::string& kernel) {
  if (kernel == "avx512") {
    return {64,
            "AVX-512: 2 FMA units x 16 floats x 2 FLOPs; note that some CPUs have only one "
            "512-bit FMA port (or split 512-bit FMAs in two), where the true peak is half"};
  }
  if (kernel == "avx2") return {32, "AVX2+FMA: 2 FMA units x 8 floats x 2 FLOPs"};
  return {8, "portable (SSE2, no FMA): 1 multiply + 1 add per cycle x 4 floats"};
}

// Largest relative error of a few entries of C against a double-precision dot product, so that
// a wrong kernel cannot post a good time.
double spot_check_error(const std::vector<float>& a, const std::vector<float>& b,
                        const std::vector<float>& c, int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int64_t> index(0, n - 1);
  double worst = 0.0;
  for (int s = 0; s < 16; ++s) {
    const int64_t i = index(rng), j = index(rng);
    double dot = 0.0, magnitude = 0.0;
    for (int64_t p = 0; p < n; ++p) {
      dot += double(a[i * n + p]) * b[p * n + j];
      magnitude += std::abs(double(a[i * n + p]) * b[p * n + j]);
    }
    worst = std::max(worst, std::abs(c[i * n + j] - dot) / magnitude);
  }
  return worst;
}

struct Timing {
  double best_seconds;
  int runs;
};

// One warm-up product (first touch of the pages, packing buffers), then at least min_runs timed
// products and at least min_seconds in all; the best run counts.
Timing time_sgemm(int64_t n, const std::vector<float>& a, const std::vector<float>& b,
                  std::vector<float>& c, int min_runs, double min_seconds) {
  auto product = [&] {
    remix::cpu::sgemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  };
  product();
  Timing t{1e30, 0};
  const Clock::time_point start = Clock::now();
  while (t.runs < min_runs || seconds_since(start) < min_seconds) {
    const Clock::time_point run = Clock::now();
    product();
    t.best_seconds = std::min(t.best_seconds, seconds_since(run));
    ++t.runs;
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"remix-gemm-bench: GFLOP/s of remix's CPU SGEMM and its share of the peak"};
  std::vector<int64_t> sizes{512, 1024, 2048};
  std::string kernel = "auto";
  int min_runs = 5;
  double min_seconds = 1.0;
  app.add_option("--sizes", sizes, "sizes n of the n x n x n products (e.g. 256,512)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--kernel", kernel, "micro-kernel: auto, avx512, avx2 or portable")
      ->capture_default_str();
  app.add_option("--runs", min_runs, "timed runs per size, at least")->capture_default_str();
  app.add_option("--seconds", min_seconds, "timed seconds per size, at least")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    remix::cpu::set_sgemm_kernel(kernel);
    const std::string name = remix::cpu::sgemm_kernel_name();
    const int threads = omp_get_max_threads();
    const double ghz = measure_clock_ghz(threads, int64_t{1} << 20, 200);
    const IsaPeak isa = isa_peak(name);
    const double peak = threads * ghz * isa.flops_per_cycle;

    fmt::print("remix-gemm-bench: C = A @ B, f32, row-major, n x n x n\n");
    fmt::print("kernel:  {}\n", name);
    fmt::print("threads: {} (omp_get_max_threads; set OMP_NUM_THREADS to change)\n", threads);
    fmt::print(
        "clock:   {:.3f} GHz, measured: chains of 2^20 dependent register additions (one per "
        "cycle), the fastest of 200 on each of the {} threads at once, mean over threads; "
        "/proc/cpuinfo says {:.0f} MHz\n",
        ghz, threads, cpuinfo_mhz());
    fmt::print("peak:    {} cores x {:.3f} GHz x {:.0f} FLOP/cycle/core ({}) = {:.1f} GFLOP/s\n\n",
               threads, ghz, isa.flops_per_cycle, isa.how, peak);

    fmt::print("{:>6}  {:>9}  {:>9}  {:>9}  {:>5}  {:>9}\n", "n", "best ms", "GFLOP/s", "% of peak",
               "runs", "max error");
    std::mt19937 rng(2024);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (int64_t n : sizes) {
      REMIX_CHECK(n > 0, "--sizes: expected positive sizes, got {}", n);
      std::vector<float> a(n * n), b(n * n), c(n * n);
      for (float& v : a) v = uniform(rng);
      for (float& v : b) v = uniform(rng);
      const Timing t = time_sgemm(n, a, b, c, min_runs, min_seconds);
      const double gflops = 2.0 * double(n) * n * n / t.best_seconds / 1e9;
      const double error = spot_check_error(a, b, c, n, rng);
      fmt::print("{:>6}  {:>9.2f}  {:>9.1f}  {:>8.1f}%  {:>5}  {:>9.1e}\n", n, t.best_seconds * 1e3,
                 gflops, 100.0 * gflops / peak, t.runs, error);
      REMIX_CHECK(error < 1e-4, "sgemm gave a wrong product for n = {} (relative error {})", n,
                  error);
    }
  } catch (const remix::Error& e) {
    fmt::print(stderr, "remix-gemm-bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
