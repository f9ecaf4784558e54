// Exercise 2, a worked solution: the mixing on host vectors (clear before fast), then the
// augmentation around it and its registry row.
#include "exercises/stripe_mix.h"

#include <cmath>
#include <numeric>

#include "augment/registry.h"

namespace remix::exercises {

augment::MixedBatch stripe_mix(const Tensor& images, const Tensor& targets, int64_t x1, int64_t x2,
                               const std::vector<int64_t>& perm) {
  augment::check_batch(images, targets, 0, "stripemix");
  const int64_t n = images.size(0), h = images.size(1), w = images.size(2), c = images.size(3);
  const int64_t k = targets.size(1);
  REMIX_CHECK(0 <= x1 && x1 <= x2 && x2 <= w && static_cast<int64_t>(perm.size()) == n,
              "stripemix: expected 0 <= x1 <= x2 <= {} and {} permuted indices, got [{}, {}) and {}",
              w, n, x1, x2, perm.size());
  const std::vector<float> in = images.to_vector<float>(), t = targets.to_vector<float>();
  std::vector<float> out = in, mixed(t.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = x1; x < x2; ++x)
        for (int64_t ch = 0; ch < c; ++ch)
          out[static_cast<size_t>(((i * h + y) * w + x) * c + ch)] =
              in[static_cast<size_t>(((perm[static_cast<size_t>(i)] * h + y) * w + x) * c + ch)];
  const double lam = 1.0 - static_cast<double>(x2 - x1) / static_cast<double>(w);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      mixed[static_cast<size_t>(i * k + j)] = static_cast<float>(
          lam * t[static_cast<size_t>(i * k + j)] +
          (1 - lam) * t[static_cast<size_t>(perm[static_cast<size_t>(i)] * k + j)]);
  augment::MixedBatch batch = augment::unmixed(Tensor::from_vector(out, images.shape()),
                                               Tensor::from_vector(mixed, targets.shape()));
  batch.lam = lam;
  return batch;
}

namespace {

class StripeMix : public augment::BatchAugmentation {
 public:
  std::string name() const override { return "stripemix"; }
  augment::MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen) override {
    REMIX_CHECK(images.device().is_cpu(), "stripemix: this exercise runs on the CPU only");
    const int64_t n = images.size(0), w = images.size(2);
    const double lam0 = gen.uniform();
    const auto width = static_cast<int64_t>(std::lround((1 - lam0) * static_cast<double>(w)));
    const int64_t x1 = gen.randint(w - width + 1);
    std::vector<int64_t> perm(static_cast<size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates
      std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(gen.randint(i + 1))]);
    return stripe_mix(images, targets, x1, x1 + width, perm);
  }
};

}  // namespace

void register_stripe_mix() {
  augment::register_augmentation(
      {"stripemix", "a full-height stripe of a permuted batch pasted, targets mixed by area",
       [](const augment::AugmentOptions&) -> std::unique_ptr<augment::BatchAugmentation> {
         return std::make_unique<StripeMix>();
       }});
}

}  // namespace remix::exercises
