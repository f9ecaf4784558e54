#include "autograd/engine.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/primitives.h"

namespace remix {

namespace {

// Nodes reachable from `root`, each after every node that consumes its output (so that when
// a node runs, all gradients of its output have arrived). Iterative DFS: graphs of deep
// networks would overflow the stack with recursion.
std::vector<Node*> reverse_topological_order(Node* root) {
  std::vector<Node*> post_order;
  std::unordered_set<Node*> seen{root};
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next_input] = stack.back();
    if (next_input < node->inputs.size()) {
      Node* producer = node->inputs[next_input++].producer.get();
      if (producer != nullptr && seen.insert(producer).second) stack.push_back({producer, 0});
    } else {
      post_order.push_back(node);
      stack.pop_back();
    }
  }
  return {post_order.rbegin(), post_order.rend()};
}

// A gradient tensor may be shared (an add passes the same dy to both inputs); one held by
// nobody else can be stored without a copy.
Tensor owned(const Tensor& g) { return g.storage().use_count() == 1 ? g : g.clone(); }

void accumulate(Tensor& slot, const Tensor& g) {
  slot = slot.defined() ? prim::binary(BinaryOp::add, slot, g) : owned(g);
}

// How many of the nodes still to run have an edge into each leaf: a leaf's gradient is final
// when its count reaches 0.
class LeafWriters {
 public:
  LeafWriters(const std::vector<Node*>& order, const LeafGradientReady& on_ready)
      : on_ready_(on_ready) {
    if (!on_ready_) return;
    for (const Node* node : order)
      for (const Node::Edge& edge : node->inputs)
        if (edge.leaf) ++remaining_[edge.leaf.get()];
  }
  // After `node` ran (or was skipped because no gradient reached it).
  void node_done(const Node& node) {
    if (!on_ready_) return;
    for (const Node::Edge& edge : node.inputs)
      if (edge.leaf && --remaining_[edge.leaf.get()] == 0 && edge.leaf->grad.defined())
        on_ready_(edge.leaf.get(), edge.leaf->grad);
  }

 private:
  const LeafGradientReady& on_ready_;
  std::unordered_map<const AutogradMeta*, int> remaining_;
};

void check_gradient(const Node& node, size_t i, const Tensor& g, const Tensor& reference) {
  REMIX_CHECK(!reference.defined() || g.shape() == reference.shape(),
              "{} returned a gradient of shape {} for input {}, whose shape is {}", node.name(),
              to_string(g.shape()), i, to_string(reference.shape()));
}

}  // namespace

void backward(const Tensor& root, const Tensor& gradient, bool retain_graph,
              const LeafGradientReady& on_leaf_ready) {
  REMIX_CHECK(root.defined(), "backward: the tensor is undefined");
  REMIX_CHECK(requires_grad(root),
              "backward: the tensor does not require a gradient (no input of the computation "
              "was marked with set_requires_grad, or it ran under NoGradGuard)");
  Tensor seed = gradient;
  if (!seed.defined()) {
    REMIX_CHECK(root.numel() == 1,
                "backward: the tensor has shape {}; a gradient can be implied only for a "
                "one-element (scalar) output, so pass one of the same shape",
                to_string(root.shape()));
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  check_same_shape(seed, root, "backward gradient");
  NoGradGuard no_grad;  // the backward itself is not recorded

  const auto root_meta = std::static_pointer_cast<AutogradMeta>(root.autograd_meta());
  if (!root_meta->grad_fn) {  // backward of a leaf: its gradient is the seed
    accumulate(root_meta->grad, seed);
    if (on_leaf_ready) on_leaf_ready(root_meta.get(), root_meta->grad);
    return;
  }
  std::unordered_map<Node*, Tensor> pending{{root_meta->grad_fn.get(), seed}};
  const std::vector<Node*> order = reverse_topological_order(root_meta->grad_fn.get());
  LeafWriters leaf_writers(order, on_leaf_ready);
  for (Node* node : order) {
    auto it = pending.find(node);
    if (it == pending.end()) {  // no gradient flowed into this node
      leaf_writers.node_done(*node);
      continue;
    }
    const Tensor doutput = std::move(it->second);
    pending.erase(it);
    REMIX_CHECK(!node->released,
                "backward through {} a second time: its saved tensors were freed after the "
                "first backward; pass retain_graph=true to the first call",
                node->name());
    std::vector<Tensor> dinputs = node->backward(doutput);
    REMIX_CHECK(dinputs.size() == node->inputs.size(), "{} returned {} gradients for {} inputs",
                node->name(), dinputs.size(), node->inputs.size());
    for (size_t i = 0; i < dinputs.size(); ++i) {
      const Node::Edge& edge = node->inputs[i];
      if (!edge.needs_grad() || !dinputs[i].defined()) continue;
      Tensor g = std::move(dinputs[i]);
      if (edge.producer) {
        accumulate(pending[edge.producer.get()], g);
      } else {
        check_gradient(*node, i, g, edge.leaf->grad);
        accumulate(edge.leaf->grad, g);
      }
    }
    if (!retain_graph) {
      node->release_saved();
      node->released = true;
    }
    leaf_writers.node_done(*node);
  }
}

}  // namespace remix
