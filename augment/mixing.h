// The arithmetic the mixing augmentations share, so that CutMix and RecursiveMix with its three
// switches off are the same computation (docs/RECURSIVEMIX.md, "The ablation switches"):
//   - a random permutation of the batch (the "other image" of Mixup and CutMix),
//   - Beta draws,
//   - target mixing  y = lam * y + (1 - lam) * y_source,
//   - pasting a source batch into one box, either the same region of the source (CutMix) or the
//     whole source image resized into the box (RecursiveMix's resize strategy).
#pragma once

#include "augment/augmentation.h"
#include "augment/box.h"
#include "tensor/backend.h"

namespace remix::augment {

// A ~ Beta(a, b). Beta(1, 1) is the uniform distribution, drawn as one uniform.
double draw_beta(Generator& gen, double a, double b);

// A random permutation of {0..n-1} (Generator::permutation) as an i32 index on `device`.
Tensor draw_permutation(Generator& gen, int64_t n, Device device);

// rows(t, index)[i] = t[index[i]] (index: i32 on t's device).
Tensor rows(const Tensor& t, const Tensor& index);
// The first n rows of t (t itself when it has exactly n).
Tensor first_rows(const Tensor& t, int64_t n);

// lam * y + (1 - lam) * y_source, f32.
Tensor mix_targets(const Tensor& y, const Tensor& y_source, double lam);

// How a source batch fills the box.
struct PasteOptions {
  bool resize = false;  // true: the whole source image resized into the box; false: the same region
  Interpolation interpolation = Interpolation::nearest;  // of the resize
};

// `images` with `box` filled from the first N source images (N = images' rows), and targets
// mixed by the area pasted: lam = lam_of(box). An empty box gives the batch unmixed.
MixedBatch paste_and_mix(const Tensor& images, const Tensor& targets, const Tensor& source_images,
                         const Tensor& source_targets, const Box& box, const PasteOptions& paste);

}  // namespace remix::augment
