// A built-in 10-class image dataset generated from a seed, so that training and tests run with
// nothing downloaded. Images are 32x32 RGB like CIFAR's; image i of a split has class i % 10, so
// the classes are balanced (exactly, when the size is a multiple of 10).
//
// Classes (names in synthetic_class_names()):
//   0 disc       filled circle            5 diagonal   stripes at +-45 degrees
//   1 ring       circle outline           6 checker    checkerboard
//   2 square     square outline, rotated  7 cross      plus sign, rotated a little
//   3 hstripes   horizontal stripes       8 triangle   filled, rotated
//   4 vstripes   vertical stripes         9 dots       grid of small dots
// Each image draws its own foreground and background colours (independently, from the same
// distribution, so the mean image of every class is the same and colour says nothing about the
// class), position, size, rotation, stripe period and phase, and pixel noise. A linear classifier
// on raw pixels therefore does poorly, while the shapes and textures, drawn well inside the
// borders and symmetric under left-right flips as classes, survive CIFAR's random crop
// (4-pixel padding) and horizontal flip, so a small CNN learns them.
//
// Image i of a split is drawn from a generator seeded by (seed, split, i) alone: the dataset is
// the same whatever the number of threads that generate it.
#pragma once

#include "data/dataset.h"

namespace remix::data {

struct SyntheticOptions {
  int64_t train_images = 10000;
  int64_t test_images = 2000;
  uint64_t seed = 0;
  int threads = 0;  // 0: OpenMP's default (one per core)
};

Dataset make_synthetic(Split split, const SyntheticOptions& options = {});

const std::vector<std::string>& synthetic_class_names();

}  // namespace remix::data
