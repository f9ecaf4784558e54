// Differentiable matrix product c = op(a) @ op(b), op(m) = m or m^T, for 2-D a and b.
//
// With dc the gradient of c:  d op(a) = dc @ op(b)^T  and  d op(b) = op(a)^T @ dc.
// When a (or b) was used transposed, its gradient is the transpose of that, which is again one
// GEMM with transpose flags, so no transpose is ever materialised:
//   da = transpose_a ? op(b) @ dc^T : dc @ op(b)^T
//   db = transpose_b ? dc^T @ op(a) : op(a)^T @ dc
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

struct MatmulBackward : Node {
  Tensor a, b;  // a is kept only when b needs a gradient, and the other way round
  bool transpose_a = false, transpose_b = false;
  std::string name() const override { return "MatmulBackward"; }
  std::vector<Tensor> backward(const Tensor& dc) override {
    Tensor da, db;
    if (needs_input_grad(0)) {
      da = transpose_a ? prim::matmul(b, dc, transpose_b, true)
                       : prim::matmul(dc, b, false, !transpose_b);
    }
    if (needs_input_grad(1)) {
      db = transpose_b ? prim::matmul(dc, a, true, transpose_a)
                       : prim::matmul(a, dc, !transpose_a, false);
    }
    return {da, db};
  }
  void release_saved() override { a = b = Tensor(); }
};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  Tensor c = prim::matmul(a, b, transpose_a, transpose_b);
  if (auto node = make_node<MatmulBackward>({&a, &b})) {
    if (node->needs_input_grad(0)) node->b = b;
    if (node->needs_input_grad(1)) node->a = a;
    node->transpose_a = transpose_a, node->transpose_b = transpose_b;
    set_history(c, node);
  }
  return c;
}

}  // namespace remix
