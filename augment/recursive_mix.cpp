// RecursiveMix (Yang, Li, Zhao, Song & Yang, "RecursiveMix: Mixed Learning with History", 2022),
// following docs/RECURSIVEMIX.md ("One training step"). State kept between steps: the previous
// step's mixed input (history_images), its mixed targets (history_targets) and its main-head
// logits (history_logits, detached, f32). One step:
//   1. no usable history (first step, after a reset, or fewer rows than this batch): unmixed;
//   2. area ratio ~ U(0, alpha), then ONE box for the whole batch: cx, cy uniform (augment/box.h);
//   3. paste the source into the box (augment/mixing.h): the whole source image resized into it
//      (RS on, nearest or bilinear), or the same region of it (RS off). The source is the history,
//      its first N rows for a smaller last batch (HS on), or the batch itself permuted (HS off,
//      the permutation drawn after the box); an empty box leaves the batch unmixed;
//   4. lam = 1 - box area / (H * W);  y = lam * y + (1 - lam) * y_source;
//   5. CL on: the consistency term for augment/loss.h: the box as ROI boxes, the teacher
//      softmax(history_logits[:N]) and the weight omega * (1 - lam);
//   6. remember(): the mixed input, its targets and its logits become the history.
// With HS off nothing is remembered and every step mixes, as CutMix; with RS, HS and CL off and
// alpha = 1 the draws and the paste are CutMix's (beta 1, prob 1), so the results are identical.
#include <memory>

#include "augment/mixing.h"
#include "augment/options.h"
#include "autograd/node.h"
#include "tensor/primitives.h"

namespace remix::augment {

namespace {

constexpr const char* kHistoryImages = "history_images";
constexpr const char* kHistoryTargets = "history_targets";
constexpr const char* kHistoryLogits = "history_logits";

class RecursiveMix : public BatchAugmentation {
 public:
  explicit RecursiveMix(const AugmentOptions& options) : options_(options) {
    REMIX_CHECK(options.rm_alpha > 0 && options.rm_alpha <= 1,
                "rm: alpha (the largest box area ratio) must lie in (0, 1], got {}",
                options.rm_alpha);
    REMIX_CHECK(options.rm_omega >= 0, "rm: omega must not be negative, got {}", options.rm_omega);
    REMIX_CHECK(!options.rm_consistency || options.rm_history,
                "rm: the consistency loss (CL) needs the historical source (HS): its teacher is "
                "the previous step's prediction of the pasted image; turn CL off or HS on");
  }

  std::string name() const override { return "rm"; }

  MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen) override {
    check_batch(images, targets, options_.num_classes, "rm");
    const int64_t N = images.size(0), H = images.size(1), W = images.size(2);
    if (options_.rm_history && !has_history_for(N)) return unmixed(images, targets);

    const double area_ratio = gen.uniform(0.0, options_.rm_alpha);
    const Box box = draw_box(gen, H, W, area_ratio);
    Tensor source_images, source_targets;
    if (options_.rm_history) {
      source_images = history_images_.to(images.device()).to(images.dtype());
      source_targets = history_targets_.to(images.device());
    } else {
      const Tensor perm = draw_permutation(gen, N, images.device());
      source_images = rows(images, perm);
      source_targets = rows(targets, perm);
    }
    const PasteOptions paste{.resize = options_.rm_resize,
                             .interpolation = options_.rm_interpolation};
    MixedBatch out = paste_and_mix(images, targets, source_images, source_targets, box, paste);
    if (options_.rm_consistency && !box.empty()) add_consistency(out, box, images.device());
    return out;
  }

  void remember(const MixedBatch& batch, const Tensor& logits) override {
    if (!options_.rm_history) return;
    REMIX_CHECK(logits.dim() == 2 && logits.size(0) == batch.images.size(0) &&
                    logits.size(0) == batch.targets.size(0),
                "rm: remember() expected {} x K logits of the mixed batch, got {}",
                batch.images.size(0), to_string(logits.shape()));
    // Own copies: the caller may reuse the memory of its batch.
    history_images_ = detach(batch.images).clone();
    history_targets_ = detach(batch.targets).clone();
    history_logits_ = detach(logits).clone().to(DType::f32);
  }

  void start_epoch() override {
    if (!options_.rm_keep_history) forget();
  }

  nn::NamedTensors state() const override {
    if (!history_images_.defined()) return {};
    return {{kHistoryImages, history_images_},
            {kHistoryTargets, history_targets_},
            {kHistoryLogits, history_logits_}};
  }

  void load_state(const nn::NamedTensors& state) override {
    forget();
    if (state.empty()) return;
    Tensor images, targets, logits;
    for (const auto& [key, tensor] : state) {
      Tensor* slot = key == kHistoryImages    ? &images
                     : key == kHistoryTargets ? &targets
                     : key == kHistoryLogits  ? &logits
                                              : nullptr;
      REMIX_CHECK(slot != nullptr && !slot->defined(),
                  "rm: unexpected state tensor \"{}\": a saved state holds {}, {} and {} once each",
                  key, kHistoryImages, kHistoryTargets, kHistoryLogits);
      *slot = tensor;
    }
    const bool consistent = images.defined() && targets.defined() && logits.defined() &&
                            images.dim() == 4 && targets.dim() == 2 && logits.dim() == 2 &&
                            targets.size(0) == images.size(0) && logits.size(0) == images.size(0) &&
                            targets.dtype() == DType::f32 && logits.dtype() == DType::f32;
    REMIX_CHECK(consistent,
                "rm: a saved state holds {} (N x H x W x C images), {} (N x K f32) and {} "
                "(N x K f32), all three",
                kHistoryImages, kHistoryTargets, kHistoryLogits);
    history_images_ = images;
    history_targets_ = targets;
    history_logits_ = logits;
  }

 private:
  bool has_history_for(int64_t n) const {
    return history_images_.defined() && history_images_.size(0) >= n;
  }

  void forget() { history_images_ = history_targets_ = history_logits_ = Tensor(); }

  void add_consistency(MixedBatch& out, const Box& box, Device device) const {
    const int64_t N = out.images.size(0);
    const Tensor logits = first_rows(history_logits_.to(device), N);
    out.consistency = true;
    out.roi_boxes = roi_boxes(box, N, device);
    out.teacher_probs = prim::unary(UnaryOp::exp, prim::log_softmax_forward(logits));
    out.consistency_weight = options_.rm_omega * (1.0 - out.lam);
    out.shared_roi_head = options_.rm_shared_head;
  }

  AugmentOptions options_;
  Tensor history_images_, history_targets_, history_logits_;
};

}  // namespace

std::unique_ptr<BatchAugmentation> make_recursive_mix(const AugmentOptions& options) {
  return std::make_unique<RecursiveMix>(options);
}

}  // namespace remix::augment
