// An RGB picture in memory with the few drawing operations the programs' figures need: pasting
// an enlarged image, blending a colour over a pixel, writing a line of text (stb_easy_font's
// quads, filled pixel by pixel) and saving as PNG (stb_image_write).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remix::app {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }
  Rgb pixel(int x, int y) const;
  void set(int x, int y, Rgb colour);  // pixels outside the canvas are ignored
  // out = (1 - alpha) * pixel + alpha * colour
  void blend(int x, int y, Rgb colour, float alpha);
  // `hwc`: an h x w x 3 u8 image, each pixel drawn as a scale x scale square at (x, y).
  void paste(const std::vector<uint8_t>& hwc, int h, int w, int x, int y, int scale);
  // One line of text with its top-left corner at (x, y); `scale` enlarges the font (its glyphs
  // are about 6 x 7 pixels at scale 1, lines 12 pixels apart).
  void text(const std::string& line, int x, int y, Rgb colour, int scale = 1);
  static int text_width(const std::string& line, int scale = 1);

  // The PNG file, written atomically.
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<uint8_t> rgb_;
};

}  // namespace remix::app
