// Names of the interpolation modes, for the command line and the logs.
#include "augment/options.h"

#include "tensor/check.h"

namespace remix::augment {

Interpolation interpolation_from_name(const std::string& name) {
  if (name == "nearest") return Interpolation::nearest;
  if (name == "bilinear") return Interpolation::bilinear;
  throw_error(fmt::format("unknown interpolation \"{}\": expected nearest or bilinear", name));
}

std::string interpolation_name(Interpolation mode) {
  return mode == Interpolation::nearest ? "nearest" : "bilinear";
}

}  // namespace remix::augment
