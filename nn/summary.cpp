// Model summary: a ForwardObserver (module.h) that records each traced layer output.
#include "nn/summary.h"

#include <map>

#include "autograd/grad_mode.h"

namespace remix::nn {

namespace {

class SummaryRecorder : public ForwardObserver {
 public:
  explicit SummaryRecorder(Layer& model) {
    for (const auto& [name, module] : model.named_modules()) names_[module] = name;
  }

  void on_forward(const Module& module, const Tensor& output) override {
    SummaryRow row;
    const auto it = names_.find(&module);
    row.name = it != names_.end() ? it->second : "(not a registered module)";
    row.type = module.type_name();
    row.output = output.shape();
    for (const auto& [name, tensor] : module.own_parameters()) row.parameters += tensor->numel();
    row.flops_per_image = module.forward_flops(output.shape());
    rows.push_back(std::move(row));
  }

  std::vector<SummaryRow> rows;

 private:
  std::map<const Module*, std::string> names_;
};

// 11173962 -> "11,173,962".
std::string grouped(int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string shape_text(const Shape& shape) {
  return shape.empty() ? "scalar" : fmt::format("{}", fmt::join(shape, "x"));
}

}  // namespace

ModelSummary summarize(Layer& model, const Shape& input_shape, Device device, DType dtype) {
  const bool was_training = model.is_training();
  model.eval();
  SummaryRecorder recorder(model);
  {
    NoGradGuard no_grad;
    ObserveForward observe(recorder);
    model.forward(Tensor::zeros(input_shape, dtype, device));
  }
  model.train(was_training);

  ModelSummary summary;
  summary.rows = std::move(recorder.rows);
  summary.total_parameters = model.parameter_count();
  for (const auto& row : summary.rows) {
    summary.forward_parameters += row.parameters;
    summary.flops_per_image += row.flops_per_image;
  }
  return summary;
}

std::string format_summary(const ModelSummary& summary) {
  std::string out = fmt::format("{:<40} {:<15} {:<18} {:>12} {:>14}\n", "layer", "type", "output",
                                "parameters", "MFLOPs/image");
  for (const auto& row : summary.rows)
    out += fmt::format("{:<40} {:<15} {:<18} {:>12} {:>14.3f}\n", row.name, row.type,
                       shape_text(row.output), grouped(row.parameters),
                       static_cast<double>(row.flops_per_image) / 1e6);
  out += fmt::format("parameters: {} in total, {} in the layers of this forward pass\n",
                     grouped(summary.total_parameters), grouped(summary.forward_parameters));
  out += fmt::format(
      "forward: {:.3f} GFLOPs per image (a multiply-add counts as 2 FLOPs; "
      "convolutions and linear layers)\n",
      static_cast<double>(summary.flops_per_image) / 1e9);
  return out;
}

}  // namespace remix::nn
