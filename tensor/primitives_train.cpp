// Checked wrappers: optimizer updates, loss scaling, the image pipeline, batch augmentation.
#include "tensor/primitives.h"
#include "tensor/profile.h"

namespace remix::prim {

namespace {

Backend& backend(const Tensor& t) {
  return backend_for(t.device());
}

void check_scalar_f32(const Tensor& t, const Tensor& like, const char* what) {
  REMIX_CHECK(t.defined() && t.numel() == 1, "{} must be a one-element tensor", what);
  check_dtype(t, DType::f32, what);
  check_same_device(t, like, what);
}

void check_state(const Tensor& state, const Tensor& param, const char* what) {
  check_same_shape(state, param, what);
  check_dtype(state, DType::f32, what);
  check_same_device(state, param, what);
}

void check_param_grad(const Tensor& param, const Tensor& grad, const Tensor& lr,
                      const Tensor* skip_if, const char* what) {
  check_dtype(param, DType::f32, what);
  check_state(grad, param, what);
  check_scalar_f32(lr, param, "learning rate");
  if (skip_if != nullptr) check_scalar_f32(*skip_if, param, "skip flag");
}

void check_sgd_slot(const SgdSlot& s, const Tensor& lr, const SgdOptions& opt,
                    const Tensor* skip_if) {
  REMIX_CHECK(
      s.param && s.grad && s.momentum_buffer && s.step,
      "sgd_update: a slot lacks a tensor (param, grad, momentum_buffer and step are needed; "
      "the buffer may be undefined without momentum)");
  check_param_grad(*s.param, *s.grad, lr, skip_if, "sgd_update");
  check_scalar_f32(*s.step, *s.param, "sgd_update step");
  if (opt.momentum != 0.0) check_state(*s.momentum_buffer, *s.param, "sgd momentum buffer");
}

void check_adamw_slot(const AdamWSlot& s, const Tensor& lr, const Tensor* skip_if) {
  REMIX_CHECK(s.param && s.grad && s.exp_avg && s.exp_avg_sq && s.step,
              "adamw_update: a slot lacks a tensor");
  check_param_grad(*s.param, *s.grad, lr, skip_if, "adamw_update");
  check_state(*s.exp_avg, *s.param, "adamw exp_avg");
  check_state(*s.exp_avg_sq, *s.param, "adamw exp_avg_sq");
  check_scalar_f32(*s.step, *s.param, "adamw_update step");
}

}  // namespace

void sgd_update(const std::vector<SgdSlot>& slots, const Tensor& lr, const SgdOptions& opt,
                const Tensor* skip_if) {
  const profile::Scope timed(profile::Kind::optimizer);
  REMIX_CHECK(!opt.nesterov || (opt.momentum > 0 && opt.dampening == 0),
              "Nesterov momentum requires a momentum > 0 and zero dampening");
  if (slots.empty()) return;
  for (const SgdSlot& s : slots) check_sgd_slot(s, lr, opt, skip_if);
  backend(lr).sgd_update(slots, lr, opt, skip_if);
}

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const Tensor& lr,
                const SgdOptions& opt, Tensor& step, const Tensor* skip_if) {
  sgd_update({SgdSlot{&param, &grad, &momentum_buffer, &step}}, lr, opt, skip_if);
}

void adamw_update(const std::vector<AdamWSlot>& slots, const Tensor& lr, const AdamWOptions& opt,
                  const Tensor* skip_if) {
  const profile::Scope timed(profile::Kind::optimizer);
  if (slots.empty()) return;
  for (const AdamWSlot& s : slots) check_adamw_slot(s, lr, skip_if);
  backend(lr).adamw_update(slots, lr, opt, skip_if);
}

void adamw_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                  const Tensor& lr, Tensor& step, const AdamWOptions& opt, const Tensor* skip_if) {
  adamw_update({AdamWSlot{&param, &grad, &exp_avg, &exp_avg_sq, &step}}, lr, opt, skip_if);
}

void amp_unscale(const std::vector<Tensor*>& grads, const Tensor& inv_scale, Tensor& found_inf) {
  const profile::Scope timed(profile::Kind::optimizer);
  if (grads.empty()) return;
  for (const Tensor* grad : grads) {
    REMIX_CHECK(grad != nullptr && is_floating(grad->dtype()),
                "amp_unscale: gradients must be floating point");
    check_scalar_f32(inv_scale, *grad, "inverse loss scale");
    check_scalar_f32(found_inf, *grad, "found_inf flag");
  }
  backend(found_inf).amp_unscale(grads, inv_scale, found_inf);
}

void amp_unscale(Tensor& grad, const Tensor& inv_scale, Tensor& found_inf) {
  amp_unscale(std::vector<Tensor*>{&grad}, inv_scale, found_inf);
}

void amp_update_scale(Tensor& scale, Tensor& inv_scale, Tensor& found_inf, Tensor& growth_tracker,
                      double growth, double backoff, int64_t interval) {
  const profile::Scope timed(profile::Kind::optimizer);
  check_scalar_f32(scale, scale, "loss scale");
  check_scalar_f32(inv_scale, scale, "inverse loss scale");
  check_scalar_f32(found_inf, scale, "found_inf flag");
  check_scalar_f32(growth_tracker, scale, "growth tracker");
  REMIX_CHECK(growth > 1 && backoff > 0 && backoff < 1 && interval > 0,
              "loss scaling needs growth > 1, 0 < backoff < 1 and interval > 0");
  backend(scale).amp_update_scale(scale, inv_scale, found_inf, growth_tracker, growth, backoff,
                                  interval);
}

namespace {

void check_images_u8(const Tensor& in, const char* what) {
  check_dtype(in, DType::u8, what);
  REMIX_CHECK(in.dim() == 4, "{}: expected N x H x W x C images, got {}", what,
              to_string(in.shape()));
}

}  // namespace

Tensor crop_pad_u8(const Tensor& in, const Tensor& offsets, int64_t pad) {
  const profile::Scope timed(profile::Kind::augmentation);
  check_images_u8(in, "crop_pad_u8");
  check_dtype(offsets, DType::i32, "crop offsets");
  check_same_device(in, offsets, "crop_pad_u8");
  REMIX_CHECK(offsets.shape() == Shape({in.size(0), 2}), "crop offsets must be [{}, 2], got {}",
              in.size(0), to_string(offsets.shape()));
  REMIX_CHECK(pad >= 0, "crop padding must be >= 0, got {}", pad);
  Tensor out(in.shape(), DType::u8, in.device());
  backend(in).crop_pad_u8(in, offsets, pad, out);
  return out;
}

Tensor hflip_u8(const Tensor& in, const Tensor& flags) {
  const profile::Scope timed(profile::Kind::augmentation);
  check_images_u8(in, "hflip_u8");
  check_dtype(flags, DType::u8, "flip flags");
  check_same_device(in, flags, "hflip_u8");
  REMIX_CHECK(flags.shape() == Shape{in.size(0)}, "flip flags must be [{}], got {}", in.size(0),
              to_string(flags.shape()));
  Tensor out(in.shape(), DType::u8, in.device());
  backend(in).hflip_u8(in, flags, out);
  return out;
}

Tensor normalize_u8(const Tensor& in, const std::vector<float>& mean, const std::vector<float>& std,
                    DType out_dtype) {
  const profile::Scope timed(profile::Kind::augmentation);
  check_images_u8(in, "normalize_u8");
  REMIX_CHECK(is_floating(out_dtype), "normalize_u8: output must be floating point");
  const auto channels = static_cast<size_t>(in.size(3));
  REMIX_CHECK(mean.size() == channels && std.size() == channels,
              "normalize_u8: {} channels need {} means and stds, got {} and {}", channels, channels,
              mean.size(), std.size());
  for (float s : std) REMIX_CHECK(s > 0, "normalize_u8: std must be positive, got {}", s);
  Tensor out(in.shape(), out_dtype, in.device());
  backend(in).normalize_u8(in, mean, std, out);
  return out;
}

namespace {

void check_boxes(const Tensor& boxes, const Tensor& images, bool one_box_allowed,
                 const char* what) {
  check_dtype(boxes, DType::i32, what);
  check_same_device(boxes, images, what);
  const bool shape_ok =
      boxes.dim() == 2 && boxes.size(1) == 4 &&
      (boxes.size(0) == images.size(0) || (one_box_allowed && boxes.size(0) == 1));
  REMIX_CHECK(shape_ok, "{}: boxes must be [{}, 4]{}, got {}", what, images.size(0),
              one_box_allowed ? " or [1, 4]" : "", to_string(boxes.shape()));
  if (boxes.device().is_cpu()) {
    const std::vector<int32_t> b = boxes.to_vector<int32_t>();
    for (size_t i = 0; i < b.size(); i += 4)
      REMIX_CHECK(0 <= b[i] && b[i] <= b[i + 2] && b[i + 2] <= images.size(2) && 0 <= b[i + 1] &&
                      b[i + 1] <= b[i + 3] && b[i + 3] <= images.size(1),
                  "{}: box ({}, {}, {}, {}) is not inside a {}x{} image", what, b[i], b[i + 1],
                  b[i + 2], b[i + 3], images.size(1), images.size(2));
  }
}

void check_images(const Tensor& images, const char* what) {
  REMIX_CHECK(images.dim() == 4, "{}: expected N x H x W x C images, got {}", what,
              to_string(images.shape()));
}

}  // namespace

void paste_resized(const Tensor& src, const Tensor& box, Interpolation mode, Tensor& dst) {
  const profile::Scope timed(profile::Kind::augmentation);
  check_images(src, "paste_resized");
  check_images(dst, "paste_resized");
  REMIX_CHECK(
      src.size(0) >= dst.size(0) && src.size(3) == dst.size(3) && src.dtype() == dst.dtype(),
      "paste_resized: source {} {} cannot fill destination {} {}", to_string(src.shape()),
      dtype_name(src.dtype()), to_string(dst.shape()), dtype_name(dst.dtype()));
  check_same_device(src, dst, "paste_resized");
  check_boxes(box, dst, true, "paste_resized");
  backend(dst).paste_resized(src, box, mode, dst);
}

void paste_box(const Tensor& src, const Tensor& box, Tensor& dst) {
  const profile::Scope timed(profile::Kind::augmentation);
  check_images(dst, "paste_box");
  check_same_shape(src, dst, "paste_box");
  REMIX_CHECK(src.dtype() == dst.dtype(), "paste_box: dtypes differ");
  check_same_device(src, dst, "paste_box");
  check_boxes(box, dst, true, "paste_box");
  backend(dst).paste_box(src, box, dst);
}

void fill_box(const Tensor& boxes, double value, Tensor& dst) {
  const profile::Scope timed(profile::Kind::augmentation);
  check_images(dst, "fill_box");
  check_boxes(boxes, dst, true, "fill_box");
  backend(dst).fill_box(boxes, value, dst);
}

}  // namespace remix::prim
