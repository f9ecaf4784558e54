#include "autograd/node.h"

#include "autograd/grad_mode.h"

namespace remix {

namespace {

std::shared_ptr<AutogradMeta> meta_of(const Tensor& t) {
  return std::static_pointer_cast<AutogradMeta>(t.autograd_meta());
}

std::shared_ptr<AutogradMeta> ensure_meta(const Tensor& t) {
  if (!t.autograd_meta()) t.autograd_meta() = std::make_shared<AutogradMeta>();
  return meta_of(t);
}

}  // namespace

bool requires_grad(const Tensor& t) {
  const auto meta = t.defined() ? meta_of(t) : nullptr;
  return meta != nullptr && meta->requires_grad;
}

void set_requires_grad(Tensor& t, bool value) {
  REMIX_CHECK(is_leaf(t),
              "set_requires_grad: only leaf tensors can be marked; this one was computed by {} "
              "(detach() it first)",
              grad_fn(t)->name());
  REMIX_CHECK(!value || is_floating(t.dtype()),
              "set_requires_grad: only floating-point tensors can require a gradient, got {}",
              dtype_name(t.dtype()));
  ensure_meta(t)->requires_grad = value;
}

bool is_leaf(const Tensor& t) { return grad_fn(t) == nullptr; }

Tensor grad(const Tensor& t) {
  const auto meta = meta_of(t);
  return meta ? meta->grad : Tensor();
}

void set_grad(Tensor& t, const Tensor& g) {
  if (g.defined()) check_same_shape(t, g, "set_grad");
  ensure_meta(t)->grad = g;
}

void zero_grad(Tensor& t) {
  if (const auto meta = meta_of(t)) meta->grad = Tensor();
}

std::shared_ptr<Node> grad_fn(const Tensor& t) {
  const auto meta = meta_of(t);
  return meta ? meta->grad_fn : nullptr;
}

Tensor detach(const Tensor& t) { return t.reshape(t.shape()); }  // a new handle, no history

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  return any_requires_grad(std::vector<const Tensor*>(inputs));
}

bool any_requires_grad(const std::vector<const Tensor*>& inputs) {
  if (!GradMode::enabled()) return false;
  for (const Tensor* t : inputs)
    if (t != nullptr && requires_grad(*t)) return true;
  return false;
}

void connect_inputs(Node& node, std::initializer_list<const Tensor*> inputs) {
  connect_inputs(node, std::vector<const Tensor*>(inputs));
}

void connect_inputs(Node& node, const std::vector<const Tensor*>& inputs) {
  node.inputs.clear();
  for (const Tensor* t : inputs) {
    Node::Edge edge;
    if (t != nullptr && requires_grad(*t)) {
      const auto meta = meta_of(*t);
      if (meta->grad_fn) edge.producer = meta->grad_fn;
      else edge.leaf = meta;
    }
    node.inputs.push_back(std::move(edge));
  }
}

void set_history(Tensor& output, std::shared_ptr<Node> node) {
  // A fresh meta: the output may be a view sharing storage with an input, never its meta.
  auto meta = std::make_shared<AutogradMeta>();
  meta->requires_grad = true;
  meta->grad_fn = std::move(node);
  output.autograd_meta() = meta;
}

}  // namespace remix
