// Sequential: layers applied one after the other; the children are named "0", "1", ... as in
// torch.nn.Sequential, so parameter names read "layer1.0.conv1.weight".
#pragma once

#include <memory>
#include <vector>

#include "nn/module.h"

namespace remix::nn {

class Sequential : public Layer {
 public:
  Sequential() : Layer("Sequential") {}
  explicit Sequential(std::vector<std::shared_ptr<Layer>> layers);

  // Appends a layer under the next index and returns it.
  template <class L>
  std::shared_ptr<L> push_back(std::shared_ptr<L> layer) {
    add(layer);
    return layer;
  }
  Tensor forward(const Tensor& x) override;

  size_t size() const { return layers_.size(); }
  Layer& operator[](size_t i) const { return *layers_.at(i); }

 private:
  void add(std::shared_ptr<Layer> layer);
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace remix::nn
