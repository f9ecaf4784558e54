#include "tensor/check.h"

namespace remix {

void throw_error(const std::string& message) { throw Error(message); }

}  // namespace remix
