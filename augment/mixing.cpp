// Shared mixing arithmetic: see mixing.h.
#include "augment/mixing.h"

#include <vector>

#include "tensor/primitives.h"

namespace remix::augment {

double draw_beta(Generator& gen, double a, double b) {
  REMIX_CHECK(a > 0 && b > 0, "draw_beta: Beta({}, {}) needs positive parameters", a, b);
  if (a == 1.0 && b == 1.0) return gen.uniform();
  return gen.beta(a, b);
}

Tensor draw_permutation(Generator& gen, int64_t n, Device device) {
  const std::vector<int64_t> perm = gen.permutation(n);
  const std::vector<int32_t> index(perm.begin(), perm.end());
  return Tensor::from_vector(index, {n}, device);
}

Tensor rows(const Tensor& t, const Tensor& index) {
  return prim::index_select_rows(t, index);
}

Tensor first_rows(const Tensor& t, int64_t n) {
  REMIX_CHECK(t.dim() >= 1 && n >= 0 && n <= t.size(0),
              "first_rows: cannot take {} rows of a {} tensor", n, to_string(t.shape()));
  if (t.size(0) == n) return t;
  return rows(t, Tensor::arange(n, DType::i32, t.device()));
}

Tensor mix_targets(const Tensor& y, const Tensor& y_source, double lam) {
  check_same_shape(y, y_source, "mix_targets");
  return prim::binary(BinaryOp::add, prim::binary_scalar(BinaryOp::mul, y, lam),
                      prim::binary_scalar(BinaryOp::mul, y_source, 1.0 - lam));
}

MixedBatch paste_and_mix(const Tensor& images, const Tensor& targets, const Tensor& source_images,
                         const Tensor& source_targets, const Box& box, const PasteOptions& paste) {
  check_batch(images, targets, 0, "paste_and_mix");
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2);
  REMIX_CHECK(source_images.dim() == 4 && source_images.size(0) >= N && source_targets.dim() == 2 &&
                  source_targets.size(0) >= N,
              "paste_and_mix: a batch of {} images needs at least {} source images and targets, "
              "got {} and {}",
              N, N, to_string(source_images.shape()), to_string(source_targets.shape()));
  if (box.empty()) return unmixed(images, targets);

  Tensor mixed = images.clone();
  const Tensor box_on_device = box_tensor(box, images.device());
  if (paste.resize) {
    prim::paste_resized(source_images, box_on_device, paste.interpolation, mixed);
  } else {
    prim::paste_box(first_rows(source_images, N), box_on_device, mixed);
  }
  const double lam = lam_of(box, H, W);
  MixedBatch out;
  out.images = mixed;
  out.targets = mix_targets(targets, first_rows(source_targets, N), lam);
  out.lam = lam;
  return out;
}

}  // namespace remix::augment
