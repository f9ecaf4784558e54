// A dataset held fully in memory: the images as one u8 N x H x W x C tensor (N images, height,
// width, channels; NHWC like every activation in remix) and their i32 class labels. CIFAR-sized
// sets (60,000 x 32 x 32 x 3 = 184 MB) fit easily, so no dataset streams from disk.
//
// Loaders of each format (data/cifar.h, data/image_folder.h, data/synthetic.h) return a Dataset;
// data/loader.h batches, shuffles and augments one.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace remix::data {

struct Dataset {
  Tensor images;  // u8, N x H x W x C, CPU
  Tensor labels;  // i32, N, each in [0, num_classes)
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // num_classes entries: class_names[label]

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

enum class Split { train, test };

// Throws a remix::Error unless `d` holds what the struct promises (dtypes, shapes, device,
// class names, labels in range). `what` names the dataset in the message.
void check_dataset(const Dataset& d, const std::string& what);

// A 64-bit seed derived from several values (a base seed, an epoch, a batch index...), so that
// each piece of randomness gets its own independent generator: mixing is a chain of splitmix64
// finalisers (Steele, Lea & Flood, 2014), which spreads every input bit over the whole output.
uint64_t derive_seed(std::initializer_list<uint64_t> values);

}  // namespace remix::data
