// The tape. Every differentiable operation that sees an input requiring a gradient records one
// Node: it keeps what its backward needs (saved tensors, sizes) and edges to where each input
// came from -- the Node that produced it, or the leaf tensor (a parameter) that receives its
// gradient. The engine (engine.h) walks Nodes from the loss back to the leaves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace remix {

// What autograd keeps in a tensor's opaque slot (tensor/tensor.h).
struct AutogradMeta : AutogradMetaBase {
  bool requires_grad = false;
  Tensor grad;                      // accumulated gradient (leaves only)
  std::shared_ptr<class Node> grad_fn;  // the node that produced this tensor (non-leaves)
};

class Node {
 public:
  // Where one input came from: its producer's Node, or a leaf's meta; both empty means the
  // input needs no gradient.
  struct Edge {
    std::shared_ptr<Node> producer;
    std::shared_ptr<AutogradMeta> leaf;
    bool needs_grad() const { return producer != nullptr || leaf != nullptr; }
  };

  virtual ~Node() = default;
  virtual std::string name() const = 0;
  // Given d(loss)/d(output), returns d(loss)/d(input) for each input in order (an undefined
  // tensor where needs_input_grad(i) is false).
  virtual std::vector<Tensor> backward(const Tensor& doutput) = 0;
  // Drops the saved tensors after a backward without retain_graph (frees activations early).
  virtual void release_saved() {}

  bool needs_input_grad(size_t i) const { return i < inputs.size() && inputs[i].needs_grad(); }

  std::vector<Edge> inputs;
  bool released = false;
};

// --- the autograd state of a tensor ---
bool requires_grad(const Tensor& t);
// Marks a leaf tensor (one not produced by a recorded op) as a parameter that gets a gradient.
void set_requires_grad(Tensor& t, bool value = true);
bool is_leaf(const Tensor& t);
// The accumulated gradient of a leaf (undefined before the first backward or after zero_grad).
Tensor grad(const Tensor& t);
void set_grad(Tensor& t, const Tensor& g);
void zero_grad(Tensor& t);  // forgets the gradient (as PyTorch's set_to_none)
std::shared_ptr<Node> grad_fn(const Tensor& t);
// A tensor sharing t's memory with no autograd history.
Tensor detach(const Tensor& t);

// --- recording (used by autograd/functions/*.cpp) ---
// True when grad mode is on and at least one input requires a gradient.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<const Tensor*>& inputs);  // a list known at run time
// Fills node->inputs with one edge per input.
void connect_inputs(Node& node, std::initializer_list<const Tensor*> inputs);
void connect_inputs(Node& node, const std::vector<const Tensor*>& inputs);
// Makes `output` the result of `node` (it then requires a gradient).
void set_history(Tensor& output, std::shared_ptr<Node> node);

// make_node<MyBackward>({&x, &w}) returns a connected node, or nullptr when nothing needs a
// gradient, so the forward can skip saving tensors:
//   if (auto node = make_node<MulBackward>({&a, &b})) { node->a = a; ...; set_history(y, node); }
template <class N>
std::shared_ptr<N> make_node(std::initializer_list<const Tensor*> inputs) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<N>();
  connect_inputs(*node, inputs);
  return node;
}
// The same for a number of inputs known only at run time (concat_channels).
template <class N>
std::shared_ptr<N> make_node(const std::vector<const Tensor*>& inputs) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<N>();
  connect_inputs(*node, inputs);
  return node;
}

}  // namespace remix
