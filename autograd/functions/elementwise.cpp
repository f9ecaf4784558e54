// Differentiable elementwise operations: each forward runs one elementwise primitive and records
// a node whose backward applies the derivative with other elementwise primitives.
//
// Binary operations broadcast like NumPy, so the gradient of an input that was broadcast (a bias
// of shape [C] added to N x H x W x C, a one-element scale) is summed back to its shape with
// prim::sum_to_shape. Nodes save only what their backward needs, and only for the inputs that
// need a gradient (dropout's mask times x keeps the mask, not x).
#include "autograd/ops.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

// Short names for the primitives the backward formulas are written with.
Tensor times(const Tensor& a, const Tensor& b) { return prim::binary(BinaryOp::mul, a, b); }
Tensor divided(const Tensor& a, const Tensor& b) { return prim::binary(BinaryOp::div, a, b); }
Tensor times(const Tensor& a, double s) { return prim::binary_scalar(BinaryOp::mul, a, s); }
Tensor negated(const Tensor& x) { return prim::unary(UnaryOp::neg, x); }

// The gradient of a broadcast input: summed over the axes broadcasting added or stretched.
Tensor unbroadcast(const Tensor& g, const Shape& shape) { return prim::sum_to_shape(g, shape); }

// ------------------------------------------------------------------------- binary operations

struct AddBackward : Node {
  Shape a_shape, b_shape;
  std::string name() const override { return "AddBackward"; }
  // d(a + b) = da + db
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {needs_input_grad(0) ? unbroadcast(dy, a_shape) : Tensor(),
            needs_input_grad(1) ? unbroadcast(dy, b_shape) : Tensor()};
  }
};

struct SubBackward : Node {
  Shape a_shape, b_shape;
  std::string name() const override { return "SubBackward"; }
  // d(a - b) = da - db
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {needs_input_grad(0) ? unbroadcast(dy, a_shape) : Tensor(),
            needs_input_grad(1) ? unbroadcast(negated(dy), b_shape) : Tensor()};
  }
};

struct MulBackward : Node {
  Tensor a, b;  // a is kept only when b needs a gradient, and the other way round
  Shape a_shape, b_shape;
  std::string name() const override { return "MulBackward"; }
  // d(a * b) = b da + a db
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {needs_input_grad(0) ? unbroadcast(times(dy, b), a_shape) : Tensor(),
            needs_input_grad(1) ? unbroadcast(times(dy, a), b_shape) : Tensor()};
  }
  void release_saved() override { a = b = Tensor(); }
};

struct DivBackward : Node {
  Tensor a, b;
  std::string name() const override { return "DivBackward"; }
  // d(a / b) = da / b - (a / b^2) db
  std::vector<Tensor> backward(const Tensor& dy) override {
    const Tensor dy_over_b = divided(dy, b);
    return {needs_input_grad(0) ? unbroadcast(dy_over_b, a.shape()) : Tensor(),
            needs_input_grad(1) ? unbroadcast(negated(times(dy_over_b, divided(a, b))), b.shape())
                                : Tensor()};
  }
  void release_saved() override { a = b = Tensor(); }
};

// ------------------------------------------------------------------ operations with a scalar

struct AddScalarBackward : Node {
  std::string name() const override { return "AddScalarBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {dy}; }  // d(a + s) = da
};

struct MulScalarBackward : Node {
  double scalar = 1;
  std::string name() const override { return "MulScalarBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {times(dy, scalar)}; }
};

struct PowBackward : Node {
  Tensor a;
  double exponent = 1;
  std::string name() const override { return "PowBackward"; }
  // d(a^e) = e a^(e-1) da  (0 for e = 0, also at a = 0 where a^-1 would give 0 * inf)
  std::vector<Tensor> backward(const Tensor& dy) override {
    if (exponent == 0.0) return {times(dy, 0.0)};
    const Tensor a_pow = prim::binary_scalar(BinaryOp::pow, a, exponent - 1);
    return {times(times(dy, a_pow), exponent)};
  }
  void release_saved() override { a = Tensor(); }
};

struct RsubBackward : Node {
  std::string name() const override { return "RsubBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {negated(dy)}; }  // d(s - a)
};

struct RdivBackward : Node {
  Tensor a;
  double scalar = 1;
  std::string name() const override { return "RdivBackward"; }
  // d(s / a) = -s / a^2 da
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {divided(times(dy, -scalar), prim::unary(UnaryOp::square, a))};
  }
  void release_saved() override { a = Tensor(); }
};

// -------------------------------------------------------------------------- unary operations

struct NegBackward : Node {
  std::string name() const override { return "NegBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {negated(dy)}; }
};

struct ExpBackward : Node {
  Tensor y;
  std::string name() const override { return "ExpBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {times(dy, y)}; }  // y dx
  void release_saved() override { y = Tensor(); }
};

struct LogBackward : Node {
  Tensor x;
  std::string name() const override { return "LogBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {divided(dy, x)}; }  // dx / x
  void release_saved() override { x = Tensor(); }
};

struct SqrtBackward : Node {
  Tensor y;
  std::string name() const override { return "SqrtBackward"; }
  // d sqrt(x) = dx / (2 sqrt(x))
  std::vector<Tensor> backward(const Tensor& dy) override { return {divided(times(dy, 0.5), y)}; }
  void release_saved() override { y = Tensor(); }
};

struct ReluBackward : Node {
  Tensor y;
  std::string name() const override { return "ReluBackward"; }
  // d relu(x) = dx where the output is positive, else 0
  std::vector<Tensor> backward(const Tensor& dy) override { return {prim::relu_backward(dy, y)}; }
  void release_saved() override { y = Tensor(); }
};

struct SigmoidBackward : Node {
  Tensor y;
  std::string name() const override { return "SigmoidBackward"; }
  // d sigmoid(x) = y (1 - y) dx
  std::vector<Tensor> backward(const Tensor& dy) override {
    const Tensor one_minus_y = prim::binary_scalar(BinaryOp::sub, y, 1.0, /*scalar_first=*/true);
    return {times(times(dy, y), one_minus_y)};
  }
  void release_saved() override { y = Tensor(); }
};

struct TanhBackward : Node {
  Tensor y;
  std::string name() const override { return "TanhBackward"; }
  // d tanh(x) = (1 - y^2) dx
  std::vector<Tensor> backward(const Tensor& dy) override {
    const Tensor y2 = prim::unary(UnaryOp::square, y);
    return {times(dy, prim::binary_scalar(BinaryOp::sub, y2, 1.0, /*scalar_first=*/true))};
  }
  void release_saved() override { y = Tensor(); }
};

struct SquareBackward : Node {
  Tensor x;
  std::string name() const override { return "SquareBackward"; }
  std::vector<Tensor> backward(const Tensor& dy) override { return {times(times(dy, x), 2.0)}; }
  void release_saved() override { x = Tensor(); }
};

// Runs a unary primitive and records Backward, handing it the input x or the output y,
// whichever its formula is written with. The output is saved detached: a node holding the very
// tensor whose history points back at the node would form a cycle that is never freed.
template <class Backward>
Tensor unary_op(UnaryOp op, const Tensor& x) {
  Tensor y = prim::unary(op, x);
  if (auto node = make_node<Backward>({&x})) {
    if constexpr (requires { node->x; }) node->x = x;
    if constexpr (requires { node->y; }) node->y = detach(y);
    set_history(y, node);
  }
  return y;
}

}  // namespace

// ------------------------------------------------------------------------------- definitions

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = prim::binary(BinaryOp::add, a, b);
  if (auto node = make_node<AddBackward>({&a, &b})) {
    node->a_shape = a.shape(), node->b_shape = b.shape();
    set_history(y, node);
  }
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = prim::binary(BinaryOp::sub, a, b);
  if (auto node = make_node<SubBackward>({&a, &b})) {
    node->a_shape = a.shape(), node->b_shape = b.shape();
    set_history(y, node);
  }
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = prim::binary(BinaryOp::mul, a, b);
  if (auto node = make_node<MulBackward>({&a, &b})) {
    node->a_shape = a.shape(), node->b_shape = b.shape();
    if (node->needs_input_grad(0)) node->b = b;
    if (node->needs_input_grad(1)) node->a = a;
    set_history(y, node);
  }
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = prim::binary(BinaryOp::div, a, b);
  if (auto node = make_node<DivBackward>({&a, &b})) {
    node->a = a, node->b = b;
    set_history(y, node);
  }
  return y;
}

Tensor add(const Tensor& a, double s) {
  Tensor y = prim::binary_scalar(BinaryOp::add, a, s);
  if (auto node = make_node<AddScalarBackward>({&a})) set_history(y, node);
  return y;
}

Tensor mul(const Tensor& a, double s) {
  Tensor y = prim::binary_scalar(BinaryOp::mul, a, s);
  if (auto node = make_node<MulScalarBackward>({&a})) {
    node->scalar = s;
    set_history(y, node);
  }
  return y;
}

Tensor pow(const Tensor& a, double exponent) {
  Tensor y = prim::binary_scalar(BinaryOp::pow, a, exponent);
  if (auto node = make_node<PowBackward>({&a})) {
    node->a = a, node->exponent = exponent;
    set_history(y, node);
  }
  return y;
}

Tensor rsub(const Tensor& a, double s) {
  Tensor y = prim::binary_scalar(BinaryOp::sub, a, s, /*scalar_first=*/true);
  if (auto node = make_node<RsubBackward>({&a})) set_history(y, node);
  return y;
}

Tensor rdiv(const Tensor& a, double s) {
  Tensor y = prim::binary_scalar(BinaryOp::div, a, s, /*scalar_first=*/true);
  if (auto node = make_node<RdivBackward>({&a})) {
    node->a = a, node->scalar = s;
    set_history(y, node);
  }
  return y;
}

Tensor neg(const Tensor& x) { return unary_op<NegBackward>(UnaryOp::neg, x); }
Tensor exp(const Tensor& x) { return unary_op<ExpBackward>(UnaryOp::exp, x); }
Tensor log(const Tensor& x) { return unary_op<LogBackward>(UnaryOp::log, x); }
Tensor sqrt(const Tensor& x) { return unary_op<SqrtBackward>(UnaryOp::sqrt, x); }
Tensor relu(const Tensor& x) { return unary_op<ReluBackward>(UnaryOp::relu, x); }
Tensor sigmoid(const Tensor& x) { return unary_op<SigmoidBackward>(UnaryOp::sigmoid, x); }
Tensor tanh(const Tensor& x) { return unary_op<TanhBackward>(UnaryOp::tanh, x); }
Tensor square(const Tensor& x) { return unary_op<SquareBackward>(UnaryOp::square, x); }

// Comparisons have a zero gradient almost everywhere: they record nothing.
Tensor greater(const Tensor& a, const Tensor& b) { return prim::binary(BinaryOp::greater, a, b); }
Tensor equal(const Tensor& a, const Tensor& b) { return prim::binary(BinaryOp::equal, a, b); }

// Operators: the scalar forms reuse the ops above (a - s = a + (-s), a / s = a * (1/s)).
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double s) { return add(a, s); }
Tensor operator-(const Tensor& a, double s) { return add(a, -s); }
Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
Tensor operator/(const Tensor& a, double s) { return mul(a, 1.0 / s); }
Tensor operator+(double s, const Tensor& a) { return add(a, s); }
Tensor operator-(double s, const Tensor& a) { return rsub(a, s); }
Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
Tensor operator/(double s, const Tensor& a) { return rdiv(a, s); }

}  // namespace remix
