// REMIX_CUDA_SYNC=1: wait for the device after every primitive and name the primitive whose work
// failed (cuda/sync_check.cpp).
#pragma once

#include "tensor/backend.h"

namespace remix::cuda {

// True when REMIX_CUDA_SYNC=1 is set in the environment (read once).
bool sync_after_primitives();

// Waits for the stream of `device`, then throws remix::Error naming `primitive` if the device or
// the runtime reports an error.
void check_after_primitive(const char* primitive, Device device);

// The CUDA backend with check_after_primitive after each primitive (created on first use).
Backend& sync_checked_backend();

}  // namespace remix::cuda
