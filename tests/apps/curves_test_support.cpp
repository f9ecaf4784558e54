#include "tests/apps/curves_test_support.h"

#include <gtest/gtest.h>

#include <sstream>

namespace remix::app::testing {
namespace {

double number(const XmlElement& e, const std::string& key) { return std::stod(e.attribute(key)); }

double metric(const EpochMetrics& m, const std::string& series) {
  if (series == "train_loss") return m.train_loss;
  if (series == "test_loss") return m.test_loss;
  if (series == "test_top1") return 100 * m.test_top1;
  if (series == "test_top5") return 100 * m.test_top5;
  return m.lr;
}

// The (epoch, value) pairs of a polyline: the inverse of the mapping in apps/curves.h.
std::vector<std::pair<double, double>> read_points(const XmlElement& panel,
                                                   const XmlElement& line) {
  const bool y2 = line.attribute("data-axis") == "y2";
  const double left = number(panel, "data-left"), top = number(panel, "data-top");
  const double width = number(panel, "data-width"), height = number(panel, "data-height");
  const double x_min = number(panel, "data-x-min"), x_max = number(panel, "data-x-max");
  const double y_min = number(panel, y2 ? "data-y2-min" : "data-y-min");
  const double y_max = number(panel, y2 ? "data-y2-max" : "data-y-max");
  std::vector<std::pair<double, double>> points;
  std::istringstream in(line.attribute("points"));
  for (std::string pair; in >> pair;) {
    const size_t comma = pair.find(',');
    const double x = std::stod(pair.substr(0, comma)), y = std::stod(pair.substr(comma + 1));
    points.emplace_back(x_min + (x - left) / width * (x_max - x_min),
                        y_min + (1 - (y - top) / height) * (y_max - y_min));
  }
  return points;
}

}  // namespace

void expect_curves_match(const XmlElement& svg, const RunCurves& run) {
  for (const char* series : kCurveSeries) {
    int found = 0;
    for (const XmlElement* panel : svg.find_all("g"))
      for (const XmlElement* line : panel->find_all("polyline")) {
        if (line->attribute("data-run") != run.name || line->attribute("data-series") != series)
          continue;
        ++found;
        const bool y2 = line->attribute("data-axis") == "y2";
        const double range = number(*panel, y2 ? "data-y2-max" : "data-y-max") -
                             number(*panel, y2 ? "data-y2-min" : "data-y-min");
        // Coordinates are written to 0.01 px: a value is known to 0.01 px of its axis.
        const double tolerance = 0.011 * range / number(*panel, "data-height");
        const auto points = read_points(*panel, *line);
        ASSERT_EQ(points.size(), run.epochs.size()) << run.name << " " << series;
        for (size_t i = 0; i < points.size(); ++i) {
          EXPECT_NEAR(points[i].first, static_cast<double>(run.epochs[i].epoch), 0.05)
              << run.name << " " << series;
          EXPECT_NEAR(points[i].second, metric(run.epochs[i], series), tolerance)
              << run.name << " " << series << " epoch " << run.epochs[i].epoch;
        }
      }
    EXPECT_EQ(found, 1) << "lines of " << run.name << " " << series;
  }
}

}  // namespace remix::app::testing
