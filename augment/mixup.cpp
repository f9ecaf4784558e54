// Mixup (Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk Minimization", 2018):
// every image is blended with another image of the batch, and its target likewise,
//   lam ~ Beta(alpha, alpha),  perm a random permutation of the batch,
//   x = lam * x + (1 - lam) * x[perm],   y = lam * y + (1 - lam) * y[perm].
// Draws, in order: lam, then the permutation (one of each per batch).
#include <memory>

#include "augment/mixing.h"
#include "augment/options.h"
#include "tensor/primitives.h"

namespace remix::augment {

namespace {

class Mixup : public BatchAugmentation {
 public:
  explicit Mixup(const AugmentOptions& options)
      : alpha_(options.mixup_alpha), num_classes_(options.num_classes) {
    REMIX_CHECK(alpha_ > 0, "mixup: alpha must be positive, got {}", alpha_);
  }

  std::string name() const override { return "mixup"; }

  MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen) override {
    check_batch(images, targets, num_classes_, "mixup");
    const double lam = draw_beta(gen, alpha_, alpha_);
    const Tensor perm = draw_permutation(gen, images.size(0), images.device());
    MixedBatch out;
    out.images = prim::binary(BinaryOp::add, prim::binary_scalar(BinaryOp::mul, images, lam),
                              prim::binary_scalar(BinaryOp::mul, rows(images, perm), 1.0 - lam));
    out.targets = mix_targets(targets, rows(targets, perm), lam);
    out.lam = lam;
    return out;
  }

 private:
  double alpha_;
  int64_t num_classes_;
};

}  // namespace

std::unique_ptr<BatchAugmentation> make_mixup(const AugmentOptions& options) {
  return std::make_unique<Mixup>(options);
}

}  // namespace remix::augment
