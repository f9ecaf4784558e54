// Dataset validation and seed derivation, shared by every dataset format and the loader.
#include "data/dataset.h"

namespace remix::data {

void check_dataset(const Dataset& d, const std::string& what) {
  REMIX_CHECK(d.images.defined() && d.labels.defined(), "{}: images or labels are missing", what);
  REMIX_CHECK(d.images.device().is_cpu() && d.labels.device().is_cpu(),
              "{}: a dataset lives on the CPU", what);
  REMIX_CHECK(d.images.dtype() == DType::u8 && d.images.dim() == 4,
              "{}: images must be u8 N x H x W x C, got {} {}", what, dtype_name(d.images.dtype()),
              to_string(d.images.shape()));
  REMIX_CHECK(d.labels.dtype() == DType::i32 && d.labels.shape() == Shape{d.images.size(0)},
              "{}: labels must be i32 [{}], got {} {}", what, d.images.size(0),
              dtype_name(d.labels.dtype()), to_string(d.labels.shape()));
  REMIX_CHECK(d.num_classes > 0 && static_cast<int64_t>(d.class_names.size()) == d.num_classes,
              "{}: {} classes need {} class names, got {}", what, d.num_classes, d.num_classes,
              d.class_names.size());
  const int32_t* labels = d.labels.data<int32_t>();
  for (int64_t i = 0; i < d.size(); ++i)
    REMIX_CHECK(labels[i] >= 0 && labels[i] < d.num_classes,
                "{}: label {} of image {} is outside [0, {})", what, labels[i], i, d.num_classes);
}

uint64_t derive_seed(std::initializer_list<uint64_t> values) {
  // splitmix64: add the golden-ratio increment, then the finaliser's xor-shift-multiply rounds.
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  uint64_t state = mix(values.size());
  for (uint64_t v : values) state = mix(state ^ mix(v));
  return state;
}

}  // namespace remix::data
