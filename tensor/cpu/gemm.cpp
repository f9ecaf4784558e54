// The CPU matrix product: remix::cpu::sgemm (gemm.h) and CpuBackend::gemm on top of it.
//
// The classic Goto/BLIS design, for C = alpha * op(A) @ op(B) + beta * C:
//   for jc in steps of NC (columns of C)
//     for pc in steps of KC (the depth k)
//       pack op(B)[pc:pc+KC, jc:jc+NC] into slivers of NR columns      (shared by all threads)
//       for each block of about MC rows of C, one per thread at a time
//         pack op(A)[rows, pc:pc+KC] into slivers of MR rows           (one buffer per thread)
//         for each NR sliver of B, for each MR sliver of A:
//           the micro-kernel computes one MR x NR tile of C in registers (gemm_kernel.h)
// Packing makes every read of the micro-kernel contiguous, handles both transposes and the zero
// padding of ragged edges in one place, and sizes the blocks for the caches. beta is applied by
// the first depth panel only; later panels add to C (beta = 1). The micro-kernel (AVX-512,
// AVX2 + FMA or portable) is chosen once from what the CPU reports and can be forced by name.
#include "tensor/cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <string_view>

#include "tensor/check.h"
#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/gemm_kernel.h"
#include "tensor/cpu/reference.h"
#include "tensor/cpu/scratch.h"

namespace remix::cpu {
namespace {

using detail::SgemmKernel;

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

// ------------------------------------------------------------------------------ kernel choice

// __builtin_cpu_supports also checks that the operating system saves the wide registers.
bool cpu_can_run(const std::string& name) {
  __builtin_cpu_init();
  if (name == "portable") return true;
  if (name == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (name == "avx512") {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  }
  return false;
}

const SgemmKernel* kernel_named(const std::string& name) {
  if (name == "avx512") return &detail::avx512_sgemm_kernel();
  if (name == "avx2") return &detail::avx2_sgemm_kernel();
  if (name == "portable") return &detail::portable_sgemm_kernel();
  return nullptr;
}

const SgemmKernel* fastest_kernel() {
  for (const char* name : {"avx512", "avx2"}) {
    if (cpu_can_run(name)) return kernel_named(name);
  }
  return &detail::portable_sgemm_kernel();
}

std::atomic<const SgemmKernel*>& active_kernel() {
  static std::atomic<const SgemmKernel*> kernel{fastest_kernel()};
  return kernel;
}

// ------------------------------------------------------------------------------------ packing

// A panel of op(A) or op(B) is packed into slivers of `width` lanes (a lane is a row of op(A) or
// a column of op(B)), k-major, with zeros past the last lane:
//   dst[s * width * depth + p * width + l] = lane (s * width + l) at depth p.
// The strides say how the matrix is stored, which is how both transposes are handled here and
// nowhere else; one of them is always 1, and memory is read in that order.

// The lanes of one depth step are contiguous (op(B) = B, op(A) = A^T): row by row as stored.
void pack_contiguous_lanes(const float* src, int64_t depth_stride, int64_t lanes, int64_t depth,
                           int64_t width, float* dst) {
  if (lanes % width != 0) {
    float* last = dst + lanes / width * width * depth;
    std::fill(last, last + width * depth, 0.0f);
  }
  for (int64_t p = 0; p < depth; ++p) {
    const float* in = src + p * depth_stride;
    float* out = dst + p * width;
    for (int64_t first = 0; first < lanes; first += width, out += width * depth) {
      const int64_t live = std::min(width, lanes - first);
      for (int64_t l = 0; l < live; ++l) out[l] = in[first + l];
    }
  }
}

// Each lane is contiguous along the depth (op(A) = A, op(B) = B^T): lane by lane as stored. A lane
// is too short for the hardware prefetcher to ramp up, so the same lane of the next sliver is
// prefetched while this one is copied.
void pack_contiguous_depth(const float* src, int64_t lane_stride, int64_t lanes, int64_t depth,
                           int64_t width, float* dst) {
  constexpr int64_t kFloatsPerLine = 16;
  for (int64_t first = 0; first < lanes; first += width, dst += width * depth) {
    const int64_t live = std::min(width, lanes - first);
    if (live < width) std::fill(dst, dst + width * depth, 0.0f);
    for (int64_t l = 0; l < live; ++l) {
      const float* in = src + (first + l) * lane_stride;
      if (first + width + l < lanes) {
        for (int64_t p = 0; p < depth; p += kFloatsPerLine) {
          __builtin_prefetch(in + width * lane_stride + p);
        }
      }
      for (int64_t p = 0; p < depth; ++p) dst[p * width + l] = in[p];
    }
  }
}

void pack_slivers(const float* src, int64_t lane_stride, int64_t depth_stride, int64_t lanes,
                  int64_t depth, int64_t width, float* dst) {
  if (lane_stride == 1) {
    pack_contiguous_lanes(src, depth_stride, lanes, depth, width, dst);
  } else {
    pack_contiguous_depth(src, lane_stride, lanes, depth, width, dst);
  }
}

// -------------------------------------------------------------------------------- the product

// One call's arguments, with op(A) and op(B) described by strides:
// op(A)[i][p] = a[i * a_row + p * a_depth],  op(B)[p][j] = b[p * b_depth + j * b_col].
struct Product {
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  int64_t a_row, a_depth;
  const float* b;
  int64_t b_depth, b_col;
  float* c;
  int64_t ldc;
};

// C = beta * C, for the products with nothing to add (k == 0 or alpha == 0).
void scale_c(const Product& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = g.c + i * g.ldc;
    for (int64_t j = 0; j < g.n; ++j) row[j] = g.beta == 0.0f ? 0.0f : g.beta * row[j];
  }
}

// C = alpha * tile + beta * C over the part of a scratch tile that lies inside C.
void store_edge_tile(const float* tile, int64_t nr, int64_t rows, int64_t cols, float alpha,
                     float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const float product = alpha * tile[i * nr + j];
      c[i * ldc + j] = beta == 0.0f ? product : product + beta * c[i * ldc + j];
    }
  }
}

// C[rows x cols] = alpha * (packed A block) @ (packed B slivers) + beta * C, tile by tile.
// One B sliver stays in the nearest cache while the loop over A slivers streams the A block.
void multiply_packed(const SgemmKernel& kernel, const float* a_block, const float* b_slivers,
                     int64_t rows, int64_t cols, int64_t depth, float alpha, float beta, float* c,
                     int64_t ldc) {
  const int64_t mr = kernel.mr, nr = kernel.nr;
  alignas(64) float scratch[detail::kMaxTileElements];
  for (int64_t j = 0; j < cols; j += nr) {
    const float* b_sliver = b_slivers + (j / nr) * nr * depth;
    const int64_t tile_cols = std::min(nr, cols - j);
    for (int64_t i = 0; i < rows; i += mr) {
      const float* a_sliver = a_block + (i / mr) * mr * depth;
      const int64_t tile_rows = std::min(mr, rows - i);
      float* c_tile = c + i * ldc + j;
      if (tile_rows == mr && tile_cols == nr) {
        kernel.tile(depth, a_sliver, b_sliver, c_tile, ldc, alpha, beta);
      } else {
        kernel.tile(depth, a_sliver, b_sliver, scratch, nr, 1.0f, 0.0f);
        store_edge_tile(scratch, nr, tile_rows, tile_cols, alpha, beta, c_tile, ldc);
      }
    }
  }
}

// How the rows of C are cut into blocks (about MC rows, whole MR slivers) and, when there are
// fewer blocks than threads, how the columns of a B panel are shared out as well.
struct WorkSplit {
  int64_t row_slivers, row_blocks, col_parts;
  // Block b holds slivers [b * row_slivers / row_blocks, (b + 1) * row_slivers / row_blocks):
  // sizes differ by at most one sliver, so that threads get equal work.
  int64_t first_sliver(int64_t block) const { return block * row_slivers / row_blocks; }
};

WorkSplit split_work(const SgemmKernel& kernel, int64_t m, int threads) {
  WorkSplit s;
  s.row_slivers = ceil_div(m, kernel.mr);
  s.row_blocks = round_up(ceil_div(m, kernel.mc), threads);
  s.row_blocks = std::min(s.row_blocks, s.row_slivers);
  s.col_parts = ceil_div(threads, s.row_blocks);
  return s;
}

// Threads pay for themselves from about this many multiply-adds each.
constexpr int64_t kMinMultiplyAddsPerThread = int64_t{1} << 17;

int choose_threads(const Product& g) {
  if (omp_in_parallel()) return 1;  // already inside a parallel loop: stay on this thread
  const int64_t work = g.m * g.n * g.k / kMinMultiplyAddsPerThread;
  return static_cast<int>(std::clamp<int64_t>(work, 1, omp_get_max_threads()));
}

void multiply(const SgemmKernel& kernel, const Product& g) {
  const int threads = choose_threads(g);
  const WorkSplit split = split_work(kernel, g.m, threads);
  const int64_t panel_cols = round_up(std::min(g.n, kernel.nc), kernel.nr);
  const int64_t panel_depth = std::min(g.k, kernel.kc);
  const int64_t block_rows = ceil_div(split.row_slivers, split.row_blocks) * kernel.mr;
  const int64_t b_size = panel_depth * panel_cols, a_size = panel_depth * block_rows;
  thread_local ScratchBuffer buffer;  // kept between calls: repeated products do not allocate
  float* const b_panel = buffer.reserve(b_size + threads * a_size);
  float* const a_blocks = b_panel + b_size;

#pragma omp parallel num_threads(threads)
  {
    float* const a_block = a_blocks + omp_get_thread_num() * a_size;
    const int64_t team = omp_get_num_threads();
    for (int64_t jc = 0; jc < g.n; jc += kernel.nc) {
      const int64_t cols = std::min(kernel.nc, g.n - jc);
      const int64_t col_slivers = ceil_div(cols, kernel.nr);
      const int64_t col_parts = std::min(split.col_parts, col_slivers);
      for (int64_t pc = 0; pc < g.k; pc += kernel.kc) {
        const int64_t depth = std::min(kernel.kc, g.k - pc);
        const float beta = pc == 0 ? g.beta : 1.0f;

#pragma omp for schedule(static)
        for (int64_t part = 0; part < team; ++part) {  // a run of whole slivers per thread
          const int64_t s0 = part * col_slivers / team, s1 = (part + 1) * col_slivers / team;
          const int64_t j0 = jc + s0 * kernel.nr, j1 = std::min(jc + s1 * kernel.nr, g.n);
          if (j0 < j1) {
            pack_slivers(g.b + j0 * g.b_col + pc * g.b_depth, g.b_col, g.b_depth, j1 - j0, depth,
                         kernel.nr, b_panel + s0 * kernel.nr * depth);
          }
        }  // (implicit barrier: the whole B panel is packed before anyone uses it)

        int64_t packed_block = -1;  // the A block this thread holds packed for this pc
#pragma omp for schedule(static, 1)
        for (int64_t task = 0; task < split.row_blocks * col_parts; ++task) {
          const int64_t block = task / col_parts, part = task % col_parts;
          const int64_t i0 = split.first_sliver(block) * kernel.mr;
          const int64_t rows = std::min(split.first_sliver(block + 1) * kernel.mr, g.m) - i0;
          if (block != packed_block) {
            pack_slivers(g.a + i0 * g.a_row + pc * g.a_depth, g.a_row, g.a_depth, rows, depth,
                         kernel.mr, a_block);
            packed_block = block;
          }
          const int64_t s0 = part * col_slivers / col_parts;
          const int64_t s1 = (part + 1) * col_slivers / col_parts;
          const int64_t j0 = s0 * kernel.nr, j1 = std::min(s1 * kernel.nr, cols);
          multiply_packed(kernel, a_block, b_panel + s0 * kernel.nr * depth, rows, j1 - j0, depth,
                          g.alpha, beta, g.c + i0 * g.ldc + jc + j0, g.ldc);
        }  // (implicit barrier: nobody repacks B while others still read it)
      }
    }
  }
}

}  // namespace

void detail::sgemm_with_kernel(const SgemmKernel& kernel, bool transpose_a, bool transpose_b,
                               int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                               int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                               int64_t ldc) {
  REMIX_CHECK(m >= 0 && n >= 0 && k >= 0, "sgemm: sizes must be >= 0, got m={}, n={}, k={}", m, n,
              k);
  const int64_t a_cols = transpose_a ? m : k, b_cols = transpose_b ? k : n;
  REMIX_CHECK(lda >= a_cols, "sgemm: lda = {} is less than the {} columns of A as stored", lda,
              a_cols);
  REMIX_CHECK(ldb >= b_cols, "sgemm: ldb = {} is less than the {} columns of B as stored", ldb,
              b_cols);
  REMIX_CHECK(ldc >= n, "sgemm: ldc = {} is less than the {} columns of C", ldc, n);
  if (m == 0 || n == 0) return;

  Product g{m, n, k, alpha, beta, a, 0, 0, b, 0, 0, c, ldc};
  // op(A)[i][p] is a[i * lda + p], or a[p * lda + i] when transposed; likewise op(B).
  g.a_row = transpose_a ? 1 : lda;
  g.a_depth = transpose_a ? lda : 1;
  g.b_depth = transpose_b ? 1 : ldb;
  g.b_col = transpose_b ? ldb : 1;
  if (k == 0 || alpha == 0.0f) {  // as in BLAS: A and B are not read
    scale_c(g);
    return;
  }
  if (reference_kernels_enabled()) {  // the triple loop that defines the product
    reference::sgemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  multiply(kernel, g);
}

void sgemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  detail::sgemm_with_kernel(*active_kernel().load(), transpose_a, transpose_b, m, n, k, alpha, a,
                            lda, b, ldb, beta, c, ldc);
}

std::string sgemm_kernel_name() {
  return active_kernel().load()->name;
}

Isa active_isa() {
  const std::string_view name = active_kernel().load()->name;
  return name == "avx512" ? Isa::avx512 : name == "avx2" ? Isa::avx2 : Isa::portable;
}

bool sgemm_kernel_supported(const std::string& name) {
  return kernel_named(name) != nullptr && cpu_can_run(name);
}

void set_sgemm_kernel(const std::string& name) {
  if (name == "auto") {
    active_kernel().store(fastest_kernel());
    return;
  }
  REMIX_CHECK(kernel_named(name) != nullptr,
              "set_sgemm_kernel: unknown kernel '{}'; expected auto, avx512, avx2 or portable",
              name);
  REMIX_CHECK(cpu_can_run(name), "set_sgemm_kernel: this CPU cannot run the '{}' kernel", name);
  active_kernel().store(kernel_named(name));
}

}  // namespace remix::cpu

namespace remix {

void CpuBackend::gemm(bool transpose_a, bool transpose_b, double alpha, const Tensor& a,
                      const Tensor& b, double beta, Tensor& c) {
  for (const Tensor* t : {&a, &b, static_cast<const Tensor*>(&c)}) {
    REMIX_CHECK(t->dtype() == DType::f32,
                "gemm: the CPU multiplies f32 matrices only, got a {} operand (f16 and bf16 "
                "products run on CUDA; cast to f32 first)",
                dtype_name(t->dtype()));
  }
  const int64_t k = transpose_a ? a.size(0) : a.size(1);
  cpu::sgemm(transpose_a, transpose_b, c.size(0), c.size(1), k, static_cast<float>(alpha),
             a.data<float>(), a.size(1), b.data<float>(), b.size(1), static_cast<float>(beta),
             c.data<float>(), c.size(1));
}

}  // namespace remix
