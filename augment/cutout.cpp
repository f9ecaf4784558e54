// Cutout (DeVries & Taylor, "Improved Regularization of Convolutional Neural Networks with
// Cutout", 2017): each image gets its own size x size square, centred on a uniform pixel and
// clipped to the image, set to 0. Images are normalised, so 0 is the dataset's mean colour, as
// in the reference (which multiplies the normalised image by a mask). Targets are unchanged.
//
// Draws, per image in order: cy ~ U{0..H-1}, then cx ~ U{0..W-1} (the reference's order).
#include <memory>
#include <vector>

#include "augment/augmentation.h"
#include "augment/box.h"
#include "augment/options.h"
#include "tensor/primitives.h"

namespace remix::augment {

namespace {

class Cutout : public BatchAugmentation {
 public:
  explicit Cutout(const AugmentOptions& options)
      : size_(options.cutout_size), num_classes_(options.num_classes) {
    REMIX_CHECK(size_ > 0, "cutout: the square side must be positive, got {}", size_);
  }

  std::string name() const override { return "cutout"; }

  MixedBatch mix(const Tensor& images, const Tensor& targets, Generator& gen) override {
    check_batch(images, targets, num_classes_, "cutout");
    const int64_t N = images.size(0), H = images.size(1), W = images.size(2);
    std::vector<int32_t> boxes;
    boxes.reserve(static_cast<size_t>(4 * N));
    int64_t cut_area = 0;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t cy = gen.randint(H);
      const int64_t cx = gen.randint(W);
      const Box box = centred_box(cx, cy, size_, size_, H, W);
      for (int64_t v : {box.x1, box.y1, box.x2, box.y2}) boxes.push_back(static_cast<int32_t>(v));
      cut_area += box.area();
    }
    MixedBatch out = unmixed(images.clone(), targets);
    if (N > 0) prim::fill_box(Tensor::from_vector(boxes, {N, 4}, images.device()), 0.0, out.images);
    // The share of pixels kept, averaged over the batch (for logs; the targets do not change).
    out.lam = N > 0 ? 1.0 - static_cast<double>(cut_area) / static_cast<double>(N * H * W) : 1.0;
    return out;
  }

 private:
  int64_t size_;
  int64_t num_classes_;
};

}  // namespace

std::unique_ptr<BatchAugmentation> make_cutout(const AugmentOptions& options) {
  return std::make_unique<Cutout>(options);
}

}  // namespace remix::augment
