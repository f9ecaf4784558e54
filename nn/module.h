// Module: the base of every layer and model. A module owns tensors and child modules and knows
// them by name, so that parameters can be listed, moved, zeroed and saved with PyTorch's dotted
// names ("layer1.0.conv1.weight", "bn1.running_mean").
//
// A module registers, in its constructor, pointers to its own members:
//   register_parameter("weight", &weight_);     learnable, requires a gradient
//   register_buffer("running_mean", &running_mean_);  state saved with the model, no gradient
//   register_counter("num_batches_tracked", &num_batches_tracked_);  a host integer, saved as I64
//   conv1_ = register_module("conv1", std::make_shared<Conv2d>(...));
// Modules are held by std::shared_ptr and never copied or moved (the registered pointers point
// into the object). Layer adds the one-input, one-output forward that Sequential chains.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace remix::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = delete;
  Module& operator=(Module&&) = delete;

  // The class name shown by summaries ("Conv2d", "BasicBlock").
  const std::string& type_name() const { return type_name_; }

  // Every parameter / buffer of this module and its descendants, in registration order, each
  // module's own tensors before its children's (the order of PyTorch's state_dict). The tensors
  // are handles sharing memory (and gradients) with the module's members.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  // Host integer state (BatchNorm's num_batches_tracked), with dotted names.
  std::vector<std::pair<std::string, int64_t*>> named_counters();
  std::vector<std::pair<std::string, int64_t>> named_counters() const;
  // This module (name "") and every descendant, depth first, in registration order.
  std::vector<std::pair<std::string, Module*>> named_modules();
  std::vector<std::pair<std::string, const Module*>> named_modules() const;

  // This module's own registrations (not its children's).
  const std::vector<std::pair<std::string, Tensor*>>& own_parameters() const { return parameters_; }
  const std::vector<std::pair<std::string, Tensor*>>& own_buffers() const { return buffers_; }
  const std::vector<std::pair<std::string, int64_t*>>& own_counters() const { return counters_; }

  // Training mode (BatchNorm uses batch statistics, Dropout drops) for this module and all below.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();  // forgets every parameter's gradient (PyTorch's set_to_none)
  int64_t parameter_count() const;
  // Moves parameters and buffers to `device`; parameters keep requiring a gradient. Move a model
  // before creating its optimizer: the optimizer holds the tensors it was given.
  void to(Device device);

  // Forward FLOPs per image of this module alone, given its output shape (batch first); layers
  // that do arithmetic worth counting (Conv2d, Linear) override it. Used by summaries.
  virtual int64_t forward_flops(const Shape& output_shape) const { return 0; }

 protected:
  void register_parameter(std::string name, Tensor* tensor);
  void register_buffer(std::string name, Tensor* tensor);
  void register_counter(std::string name, int64_t* counter);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> child) {
    add_child(std::move(name), child);
    return child;
  }
  // Layers end their forward with `return traced(y);` so that an active ForwardObserver (the
  // model summary) sees every layer's output.
  Tensor traced(const Tensor& output) const;

 private:
  void add_child(std::string name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor*>> parameters_;
  std::vector<std::pair<std::string, Tensor*>> buffers_;
  std::vector<std::pair<std::string, int64_t*>> counters_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// A module with one input and one output: what Sequential chains and models are.
class Layer : public Module {
 public:
  using Module::Module;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

// Receives every traced layer output while it is active on this thread (see summary.h).
class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  virtual void on_forward(const Module& module, const Tensor& output) = 0;
};

// Makes `observer` the active one for its lifetime (scopes nest: the previous one comes back).
class ObserveForward {
 public:
  explicit ObserveForward(ForwardObserver& observer);
  ~ObserveForward();
  ObserveForward(const ObserveForward&) = delete;
  ObserveForward& operator=(const ObserveForward&) = delete;

 private:
  ForwardObserver* previous_;
};

}  // namespace remix::nn
