#include "apps/canvas.h"

#include <algorithm>
#include <cmath>

#include "nn/safetensors.h"
#include "tensor/check.h"

// The stb headers are third-party C: their own warnings are not this project's.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_easy_font.h>
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace remix::app {

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  REMIX_CHECK(width > 0 && height > 0 && width <= 16384 && height <= 16384,
              "Canvas: expected a size in [1, 16384]^2, got {} x {}", width, height);
  rgb_.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  for (size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = background.r;
    rgb_[i + 1] = background.g;
    rgb_[i + 2] = background.b;
  }
}

Rgb Canvas::pixel(int x, int y) const {
  REMIX_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_, "Canvas: ({}, {}) is outside {} x {}",
              x, y, width_, height_);
  const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)) * 3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)) * 3;
  rgb_[i] = c.r;
  rgb_[i + 1] = c.g;
  rgb_[i + 2] = c.b;
}

void Canvas::blend(int x, int y, Rgb c, float alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const Rgb p = pixel(x, y);
  const auto mix = [alpha](uint8_t under, uint8_t over) {
    return static_cast<uint8_t>(std::lround((1 - alpha) * static_cast<float>(under) +
                                            alpha * static_cast<float>(over)));
  };
  set(x, y, {mix(p.r, c.r), mix(p.g, c.g), mix(p.b, c.b)});
}

void Canvas::paste(const std::vector<uint8_t>& hwc, int h, int w, int x, int y, int scale) {
  REMIX_CHECK(hwc.size() == static_cast<size_t>(h) * static_cast<size_t>(w) * 3,
              "Canvas::paste: {} bytes are not a {} x {} x 3 image", hwc.size(), h, w);
  for (int r = 0; r < h * scale; ++r)
    for (int c = 0; c < w * scale; ++c) {
      const size_t i = (static_cast<size_t>(r / scale) * static_cast<size_t>(w) +
                        static_cast<size_t>(c / scale)) * 3;
      set(x + c, y + r, {hwc[i], hwc[i + 1], hwc[i + 2]});
    }
}

void Canvas::text(const std::string& line, int x, int y, Rgb colour, int scale) {
  // stb_easy_font emits axis-aligned quads of 4 vertices {x, y, z, rgba} (16 bytes each).
  struct Vertex {
    float x, y, z;
    unsigned char rgba[4];
  };
  std::vector<Vertex> vertices(std::max<size_t>(line.size(), 1) * 270);
  std::string copy = line;
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, vertices.data(),
                                        static_cast<int>(vertices.size() * sizeof(Vertex)));
  for (int q = 0; q < quads; ++q) {
    const Vertex* v = &vertices[static_cast<size_t>(q) * 4];
    const int x0 = static_cast<int>(std::lround(std::min(v[0].x, v[2].x))) * scale;
    const int x1 = static_cast<int>(std::lround(std::max(v[0].x, v[2].x))) * scale;
    const int y0 = static_cast<int>(std::lround(std::min(v[0].y, v[2].y))) * scale;
    const int y1 = static_cast<int>(std::lround(std::max(v[0].y, v[2].y))) * scale;
    for (int py = y0; py < y1; ++py)
      for (int px = x0; px < x1; ++px) set(x + px, y + py, colour);
  }
}

int Canvas::text_width(const std::string& line, int scale) {
  std::string copy = line;
  return stb_easy_font_width(copy.data()) * scale;
}

void Canvas::save_png(const std::string& path) const {
  std::vector<uint8_t> png;
  const auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    const auto* bytes = static_cast<const uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
  };
  const int ok = stbi_write_png_to_func(append, &png, width_, height_, 3, rgb_.data(), width_ * 3);
  REMIX_CHECK(ok != 0, "cannot encode a {} x {} PNG for {}", width_, height_, path);
  nn::write_file_atomically(path, png);
}

}  // namespace remix::app
