// Exercise 2 (docs/EXERCISES.md): a new box-mixing augmentation, "stripemix". Like CutMix, a box
// of a permuted batch is pasted into every image and the targets are mixed by area; unlike CutMix
// the box is a full-height vertical stripe: columns [x1, x2) of every row.
//   lam = 1 - (x2 - x1) / W,  targets = lam * targets + (1 - lam) * targets[perm]
// Draws (in order): lam0 ~ Beta(1, 1) = U(0, 1), the stripe width round((1 - lam0) * W), its
// left edge uniform over the positions where it fits, then the permutation.
#pragma once

#include <cstdint>
#include <vector>

#include "augment/augmentation.h"

namespace remix::exercises {

// The deterministic part: pastes columns [x1, x2) of images[perm[i]] into image i and mixes the
// targets by the stripe's area. `images`: N x H x W x C on the CPU, f32.
augment::MixedBatch stripe_mix(const Tensor& images, const Tensor& targets, int64_t x1, int64_t x2,
                               const std::vector<int64_t>& perm);

// Adds "stripemix" to the augmentation registry (remix-train --aug stripemix would then accept it).
void register_stripe_mix();

}  // namespace remix::exercises
