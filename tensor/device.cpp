#include "tensor/device.h"

#include <cctype>

#include "tensor/check.h"

namespace remix {

std::string to_string(Device d) {
  return d.is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(d.index);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5) {
    const std::string number = text.substr(5);
    bool digits = true;
    for (char c : number) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits && number.size() < 4) return Device::cuda(std::stoi(number));
  }
  throw_error(fmt::format("unknown device '{}': expected cpu, cuda or cuda:N", text));
}

}  // namespace remix
