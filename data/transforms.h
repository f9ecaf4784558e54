// The per-batch pixel pipeline of CIFAR training: random crop with zero padding, random
// horizontal flip, then normalisation. Images stay u8 (N x H x W x C) until normalise(), which
// is the first step to produce floats, so crops and flips move 1 byte per value.
//
// The random part is drawn separately from the pixel work: draw_crop_flip() gives the offsets
// and flags of a batch from a Generator, and the same numbers can be applied on the CPU (here,
// in the loader's workers) or on the GPU (the arrays travel with the batch), with identical
// results. Each step calls the primitive of the same name in tensor/primitives.h, so it runs on
// the device of its input.
#pragma once

#include <vector>

#include "tensor/primitives.h"
#include "tensor/random.h"

namespace remix::data {

// Per-channel mean and standard deviation of the CIFAR-10 training images, in [0, 1] units
// (the constants of the usual CIFAR training scripts).
inline const std::vector<float> kCifarMean = {0.4914f, 0.4822f, 0.4465f};
inline const std::vector<float> kCifarStd = {0.2023f, 0.1994f, 0.2010f};

struct CropFlip {
  Tensor offsets;  // i32 [n, 2] on the CPU: (row, column) of the crop in the padded image
  Tensor flips;    // u8 [n] on the CPU: 1 = flip left-right, 0 = keep
};

// For each image in turn: a row offset, a column offset (each uniform on {0, ..., 2*pad}),
// then a flip with probability 0.5. pad = 0 gives zero offsets (no crop), flips still drawn.
CropFlip draw_crop_flip(Generator& gen, int64_t n, int64_t pad);

// out[n] = the H x W window at offsets[n] of in[n] zero-padded by `pad` on every side; an
// offset of (pad, pad) returns the image unchanged.
Tensor random_crop(const Tensor& images, const Tensor& offsets, int64_t pad);

// out[n] = in[n] mirrored left-right where flags[n] != 0, else in[n].
Tensor random_flip(const Tensor& images, const Tensor& flags);

// random_crop then random_flip, with the arrays of draw_crop_flip.
Tensor crop_flip(const Tensor& images, const CropFlip& draws, int64_t pad);

// out = (in / 255 - mean[c]) / std[c], as float (f32, or f16/bf16 on CUDA).
Tensor normalize(const Tensor& images, const std::vector<float>& mean = kCifarMean,
                 const std::vector<float>& std = kCifarStd, DType out_dtype = DType::f32);

}  // namespace remix::data
