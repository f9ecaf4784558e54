// Splitting a loop over OpenMP threads, only when it is big enough to pay for them.
//
// Starting a parallel region costs a few microseconds; an elementwise op on a 1,000-element tensor
// takes less than that. So loops with fewer than kParallelThreshold units of work run on the
// calling thread, and bigger ones are cut into one contiguous chunk per thread. The body receives
// a half-open range [begin, end) and keeps a plain inner loop that the compiler can vectorise.
#pragma once

#include <omp.h>

#include <cstdint>

namespace remix::cpu {

// Elements (or comparable units of work) below which a loop stays on one thread.
inline constexpr int64_t kParallelThreshold = 32768;

// Calls body(begin, end) on disjoint ranges covering [0, n). `work_per_item` is the cost of one
// item in elements (for example the row length when items are rows).
template <class Body>
void parallel_for(int64_t n, int64_t work_per_item, const Body& body) {
  if (n <= 0) return;
  if (n * work_per_item < kParallelThreshold || n == 1) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads();
    const int64_t t = omp_get_thread_num();
    const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    if (begin < end) body(begin, end);
  }
}

}  // namespace remix::cpu
