// Where a tensor's memory lives: the host (cpu) or one CUDA device (cuda:N).
#pragma once

#include <string>

namespace remix {

enum class DeviceKind { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static Device cpu() { return {DeviceKind::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  bool is_cpu() const { return kind == DeviceKind::cpu; }
  bool is_cuda() const { return kind == DeviceKind::cuda; }
  bool operator==(const Device&) const = default;
};

std::string to_string(Device d);
// Parses "cpu", "cuda" or "cuda:N"; throws remix::Error on anything else.
Device parse_device(const std::string& text);

}  // namespace remix
