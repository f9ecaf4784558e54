// CutMix (Yun, Han, Oh, Chun, Choe & Yoo, "CutMix: Regularization Strategy to Train Strong
// Classifiers with Localizable Features", 2019), as its official code:
//   with probability prob (otherwise the batch is unchanged):
//     area ratio 1 - lam ~ Beta(beta, beta); a box of side sqrt(1 - lam) of W and H, centred on
//     a uniform pixel and clipped (augment/box.h); perm a random permutation of the batch;
//     x[:, box] = x[perm][:, box];  lam = 1 - box area / (H * W);  y = lam y + (1 - lam) y[perm].
// Draws, in order: the probability uniform (only when prob < 1), the area ratio, cx, cy, then
// the permutation. RecursiveMix with its three switches off makes the same draws in the same
// order and calls the same paste_and_mix, so it equals CutMix with beta 1 and prob 1.
#include <memory>

#include "augment/mixing.h"
#include "augment/options.h"

namespace remix::augment {

namespace {

class CutMix : public BatchAugmentation {
 public:
  explicit CutMix(const AugmentOptions& options)
      : beta_(options.cutmix_beta), prob_(options.cutmix_prob), num_classes_(options.num_classes) {
    REMIX_CHECK(beta_ > 0, "cutmix: beta must be positive, got {}", beta_);
    REMIX_CHECK(prob_ >= 0 && prob_ <= 1, "cutmix: prob must lie in [0, 1], got {}", prob_);
  }

  std::string name() const override { return "cutmix"; }

  MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen) override {
    check_batch(images, targets, num_classes_, "cutmix");
    if (prob_ < 1.0 && !(gen.uniform() < prob_)) return unmixed(images, targets);
    const double area_ratio = draw_beta(gen, beta_, beta_);
    const Box box = draw_box(gen, images.size(1), images.size(2), area_ratio);
    const Tensor perm = draw_permutation(gen, images.size(0), images.device());
    return paste_and_mix(images, targets, rows(images, perm), rows(targets, perm), box,
                         PasteOptions{.resize = false});
  }

 private:
  double beta_, prob_;
  int64_t num_classes_;
};

}  // namespace

std::unique_ptr<BatchAugmentation> make_cutmix(const AugmentOptions& options) {
  return std::make_unique<CutMix>(options);
}

}  // namespace remix::augment
