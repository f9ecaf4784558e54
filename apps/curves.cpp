#include "apps/curves.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nn/json_guard.h"
#include "nn/safetensors.h"
#include "tensor/check.h"

namespace remix::app {
namespace {

namespace fs = std::filesystem;

// One drawn quantity: which panel, which vertical axis, how it is dashed.
struct Series {
  const char* key;    // the metrics.jsonl field
  const char* label;  // legend text
  const char* dash;   // SVG stroke-dasharray ("" = solid)
  int panel;          // 0: loss, 1: accuracy and learning rate
  bool second_axis;   // drawn against the panel's right-hand axis (y2)
  double (*value)(const EpochMetrics&);
};

const Series kSeries[] = {
    {"train_loss", "train loss", "", 0, false, [](const EpochMetrics& m) { return m.train_loss; }},
    {"test_loss", "test loss", "6 3", 0, false, [](const EpochMetrics& m) { return m.test_loss; }},
    {"test_top1", "test top-1 %", "", 1, false,
     [](const EpochMetrics& m) { return 100 * m.test_top1; }},
    {"test_top5", "test top-5 %", "6 3", 1, false,
     [](const EpochMetrics& m) { return 100 * m.test_top5; }},
    {"lr", "learning rate (right axis)", "2 3", 1, true, [](const EpochMetrics& m) { return m.lr; }},
};

const char* const kColours[] = {"#2563eb", "#dc2626", "#16a34a", "#9333ea",
                                "#ea580c", "#0891b2", "#4b5563", "#ca8a04"};

struct Range {
  double min = 0, max = 1;
};

// The plot area of a panel and the value ranges of its axes.
struct Panel {
  double left, top, width, height;
  Range x, y, y2;
  const char* title;
  const char* y_label;
  const char* y2_label;  // nullptr: no second axis

  double to_x(double epoch) const { return left + width * (epoch - x.min) / (x.max - x.min); }
  double to_y(double v, const Range& r) const {
    return top + height * (1 - (v - r.min) / (r.max - r.min));
  }
};

// The smallest of 1, 2, 2.5, 5 x 10^k that is >= v, so that ticks at fifths read well.
double nice_ceiling(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(v)));
  for (const double step : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (step * power >= v * (1 - 1e-12)) return step * power;
  return 10 * power;
}

std::string escape_xml(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

double max_of(const std::vector<RunCurves>& runs, bool (*wanted)(const Series&)) {
  double top = 0;
  for (const RunCurves& run : runs)
    for (const EpochMetrics& m : run.epochs)
      for (const Series& s : kSeries)
        if (wanted(s) && std::isfinite(s.value(m))) top = std::max(top, s.value(m));
  return top;
}

std::vector<Panel> layout(const std::vector<RunCurves>& runs) {
  int64_t last_epoch = 1;
  for (const RunCurves& run : runs) last_epoch = std::max(last_epoch, run.epochs.back().epoch);
  const Range x{1, static_cast<double>(std::max<int64_t>(last_epoch, 2))};
  const double loss_max =
      nice_ceiling(max_of(runs, [](const Series& s) { return s.panel == 0; }));
  const double lr_max = nice_ceiling(max_of(runs, [](const Series& s) { return s.second_axis; }));
  return {{70, 40, 380, 260, x, {0, loss_max}, {}, "loss", "cross-entropy", nullptr},
          {560, 40, 380, 260, x, {0, 100}, {0, lr_max}, "test accuracy", "percent",
           "learning rate"}};
}

void draw_axes(std::string& svg, const Panel& p) {
  svg += fmt::format(R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" )"
                     R"(fill="none" stroke="#888"/>)"
                     "\n",
                     p.left, p.top, p.width, p.height);
  svg += fmt::format(R"(<text x="{:.2f}" y="{:.2f}" text-anchor="middle" font-weight="bold">{}</text>)"
                     "\n",
                     p.left + p.width / 2, p.top - 12, p.title);
  // Epoch ticks on whole epochs: 1, then every multiple of 1, 2 or 5 x 10^k (about 5 of them).
  const double step = std::max(1.0, nice_ceiling((p.x.max - p.x.min) / 5));
  const double whole_step = step == 2.5 ? 2 : std::round(step);
  for (double epoch = p.x.min; epoch <= p.x.max;
       epoch = (std::floor(epoch / whole_step) + 1) * whole_step)
    svg += fmt::format(R"(<text x="{:.2f}" y="{:.2f}" text-anchor="middle">{:g}</text>)" "\n",
                       p.to_x(epoch), p.top + p.height + 16, epoch);
  for (int i = 0; i <= 5; ++i) {
    const double f = i / 5.0;
    const double y = p.y.min + f * (p.y.max - p.y.min);
    svg += fmt::format(R"(<text x="{:.2f}" y="{:.2f}" text-anchor="end">{:g}</text>)" "\n",
                       p.left - 6, p.to_y(y, p.y) + 4, y);
    if (p.y2_label) {
      const double y2 = p.y2.min + f * (p.y2.max - p.y2.min);
      svg += fmt::format(R"(<text x="{:.2f}" y="{:.2f}">{:g}</text>)" "\n", p.left + p.width + 6,
                         p.to_y(y2, p.y2) + 4, y2);
    }
  }
  svg += fmt::format(R"(<text x="{:.2f}" y="{:.2f}" text-anchor="middle">epoch</text>)" "\n",
                     p.left + p.width / 2, p.top + p.height + 34);
  svg += fmt::format(R"svg(<text transform="translate({:.2f},{:.2f}) rotate(-90)" )svg"
                     R"(text-anchor="middle">{}</text>)" "\n",
                     p.left - 48, p.top + p.height / 2, p.y_label);
  if (p.y2_label)
    svg += fmt::format(R"svg(<text transform="translate({:.2f},{:.2f}) rotate(90)" )svg"
                       R"(text-anchor="middle">{}</text>)" "\n",
                       p.left + p.width + 48, p.top + p.height / 2, p.y2_label);
}

void draw_series(std::string& svg, const Panel& p, const RunCurves& run, const Series& s,
                 const char* colour) {
  std::string points;
  for (const EpochMetrics& m : run.epochs) {
    const double v = s.value(m);
    if (!std::isfinite(v)) continue;
    if (!points.empty()) points += ' ';
    points += fmt::format("{:.2f},{:.2f}", p.to_x(static_cast<double>(m.epoch)),
                          p.to_y(v, s.second_axis ? p.y2 : p.y));
  }
  svg += fmt::format(R"(<polyline data-run="{}" data-series="{}" data-axis="{}" points="{}" )"
                     R"(fill="none" stroke="{}" stroke-width="1.5" stroke-dasharray="{}"/>)" "\n",
                     escape_xml(run.name), s.key, s.second_axis ? "y2" : "y", points, colour,
                     s.dash);
}

void draw_legend(std::string& svg, const std::vector<RunCurves>& runs, double top) {
  double x = 70;
  for (const Series& s : kSeries) {
    svg += fmt::format(R"(<line x1="{:.2f}" y1="{:.2f}" x2="{:.2f}" y2="{:.2f}" stroke="#333" )"
                       R"(stroke-width="1.5" stroke-dasharray="{}"/>)" "\n",
                       x, top, x + 28, top, s.dash);
    svg += fmt::format(R"(<text x="{:.2f}" y="{:.2f}">{}</text>)" "\n", x + 34, top + 4, s.label);
    x += 60 + 7.0 * static_cast<double>(std::string(s.label).size());
  }
  for (size_t r = 0; r < runs.size(); ++r) {
    const double y = top + 20 * static_cast<double>(r + 1);
    svg += fmt::format(R"(<rect x="70" y="{:.2f}" width="28" height="4" fill="{}"/>)" "\n", y - 2,
                       kColours[r % std::size(kColours)]);
    svg += fmt::format(R"(<text x="104" y="{:.2f}">{}</text>)" "\n", y + 4,
                       escape_xml(runs[r].name));
  }
}

// "folder:/long/path/cifar10-jpeg" -> "folder:cifar10-jpeg": the legend keeps the data's name.
std::string short_data_name(const std::string& data) {
  const size_t colon = data.find(':');
  if (colon == std::string::npos) return data;
  std::string path = data.substr(colon + 1);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return data.substr(0, colon + 1) + fs::path(path).filename().string();
}

}  // namespace

std::string render_curves_svg(const std::vector<RunCurves>& runs) {
  REMIX_CHECK(!runs.empty(), "no run to plot");
  for (const RunCurves& run : runs)
    REMIX_CHECK(!run.epochs.empty(), "run {} has no epoch to plot", run.name);
  const std::vector<Panel> panels = layout(runs);
  const double legend_top = 360;
  const double height = legend_top + 20 * static_cast<double>(runs.size() + 1);
  std::string svg = fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?>)" "\n"
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="{0:.0f}" )"
      R"(viewBox="0 0 1000 {0:.0f}" font-family="sans-serif" font-size="12">)" "\n"
      R"(<rect width="1000" height="{0:.0f}" fill="white"/>)" "\n",
      height);
  for (size_t i = 0; i < panels.size(); ++i) {
    const Panel& p = panels[i];
    svg += fmt::format(R"(<g class="panel" data-left="{}" data-top="{}" data-width="{}" )"
                       R"(data-height="{}" data-x-min="{}" data-x-max="{}" data-y-min="{}" )"
                       R"(data-y-max="{}" data-y2-min="{}" data-y2-max="{}">)" "\n",
                       p.left, p.top, p.width, p.height, p.x.min, p.x.max, p.y.min, p.y.max,
                       p.y2.min, p.y2.max);
    draw_axes(svg, p);
    for (size_t r = 0; r < runs.size(); ++r)
      for (const Series& s : kSeries)
        if (s.panel == static_cast<int>(i))
          draw_series(svg, p, runs[r], s, kColours[r % std::size(kColours)]);
    svg += "</g>\n";
  }
  draw_legend(svg, runs, legend_top);
  return svg + "</svg>\n";
}

RunCurves read_run_curves(const std::string& run_dir) {
  const fs::path dir(run_dir);
  const fs::path metrics = dir / "metrics.jsonl";
  REMIX_CHECK(fs::is_regular_file(metrics),
              "{}: no metrics.jsonl (expected the output folder of a remix-train run)", run_dir);
  RunCurves run;
  run.epochs = read_metrics(metrics.string());
  REMIX_CHECK(!run.epochs.empty(), "{}: metrics.jsonl has no epoch yet", run_dir);
  run.name = fs::weakly_canonical(dir).filename().string();
  const fs::path config = dir / "config.json";
  if (fs::is_regular_file(config)) {
    std::ifstream in(config);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const nlohmann::json json = nn::parse_json(text, config.string());
    const auto field = [&json](const char* key) {
      return json.contains(key) && json[key].is_string() ? json[key].get<std::string>() : "?";
    };
    run.name = field("model") + "/" + field("aug") + "/" + short_data_name(field("data"));
  }
  return run;
}

void write_curves_svg(const std::string& path, const std::vector<RunCurves>& runs) {
  const std::string svg = render_curves_svg(runs);
  nn::write_file_atomically(path, std::vector<uint8_t>(svg.begin(), svg.end()));
}

}  // namespace remix::app
