// Module registration and the recursive walks over it (names, training mode, devices).
#include "nn/module.h"

#include "autograd/node.h"

namespace remix::nn {

namespace {

thread_local ForwardObserver* active_observer = nullptr;

std::string join(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return name.empty() ? prefix : prefix + "." + name;
}

}  // namespace

void Module::check_new_name(const std::string& name) const {
  REMIX_CHECK(!name.empty() && name.find('.') == std::string::npos,
              "{}: a registered name must be non-empty and contain no '.', got '{}'", type_name_,
              name);
  auto taken = [&](const auto& list) {
    for (const auto& [n, _] : list)
      if (n == name) return true;
    return false;
  };
  REMIX_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(counters_) && !taken(children_),
              "{}: the name '{}' is already registered", type_name_, name);
}

void Module::register_parameter(std::string name, Tensor* tensor) {
  check_new_name(name);
  REMIX_CHECK(tensor != nullptr && tensor->defined(), "{}: parameter '{}' must be a defined tensor",
              type_name_, name);
  set_requires_grad(*tensor, true);
  parameters_.emplace_back(std::move(name), tensor);
}

void Module::register_buffer(std::string name, Tensor* tensor) {
  check_new_name(name);
  REMIX_CHECK(tensor != nullptr && tensor->defined(), "{}: buffer '{}' must be a defined tensor",
              type_name_, name);
  buffers_.emplace_back(std::move(name), tensor);
}

void Module::register_counter(std::string name, int64_t* counter) {
  check_new_name(name);
  REMIX_CHECK(counter != nullptr, "{}: counter '{}' is null", type_name_, name);
  counters_.emplace_back(std::move(name), counter);
}

void Module::add_child(std::string name, std::shared_ptr<Module> child) {
  check_new_name(name);
  REMIX_CHECK(child != nullptr, "{}: child module '{}' is null", type_name_, name);
  child->train(training_);
  children_.emplace_back(std::move(name), std::move(child));
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (const auto& [name, child] : children_)
    for (auto& [sub, module] : child->named_modules()) out.emplace_back(join(name, sub), module);
  return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  for (const auto& [name, module] : const_cast<Module*>(this)->named_modules())
    out.emplace_back(name, module);
  return out;
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  for (const auto& [prefix, module] : named_modules())
    for (const auto& [name, tensor] : module->parameters_)
      out.emplace_back(join(prefix, name), *tensor);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  for (const auto& [prefix, module] : named_modules())
    for (const auto& [name, tensor] : module->buffers_)
      out.emplace_back(join(prefix, name), *tensor);
  return out;
}

std::vector<std::pair<std::string, int64_t*>> Module::named_counters() {
  std::vector<std::pair<std::string, int64_t*>> out;
  for (const auto& [prefix, module] : named_modules())
    for (const auto& [name, counter] : module->counters_)
      out.emplace_back(join(prefix, name), counter);
  return out;
}

std::vector<std::pair<std::string, int64_t>> Module::named_counters() const {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [name, counter] : const_cast<Module*>(this)->named_counters())
    out.emplace_back(name, *counter);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const auto& [name, tensor] : named_parameters()) out.push_back(tensor);
  return out;
}

void Module::train(bool on) {
  for (const auto& [name, module] : named_modules()) module->training_ = on;
}

void Module::zero_grad() {
  for (auto& [name, tensor] : named_parameters()) remix::zero_grad(tensor);
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (const auto& [name, tensor] : named_parameters()) count += tensor.numel();
  return count;
}

void Module::to(Device device) {
  for (const auto& [prefix, module] : named_modules()) {
    for (auto& [name, tensor] : module->parameters_) {
      *tensor = tensor->to(device);
      set_requires_grad(*tensor, true);
    }
    for (auto& [name, tensor] : module->buffers_) *tensor = tensor->to(device);
  }
}

Tensor Module::traced(const Tensor& output) const {
  if (active_observer != nullptr) active_observer->on_forward(*this, output);
  return output;
}

ObserveForward::ObserveForward(ForwardObserver& observer) : previous_(active_observer) {
  active_observer = &observer;
}

ObserveForward::~ObserveForward() {
  active_observer = previous_;
}

}  // namespace remix::nn
