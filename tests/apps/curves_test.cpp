// The training-curve picture: well-formed SVG whose lines map back to the metrics they draw, and
// remix-plot, which overlays the curves of run folders.
#include "apps/curves.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/apps/apps_test_support.h"
#include "tests/apps/curves_test_support.h"
#include "tests/apps/xml_reader.h"

namespace remix::app::testing {
namespace {

EpochMetrics epoch_metrics(int64_t epoch, double scale) {
  EpochMetrics m;
  m.epoch = epoch;
  m.train_loss = scale * 2.3 / static_cast<double>(epoch);
  m.test_loss = scale * 1.9 / static_cast<double>(epoch);
  m.test_top1 = 0.1 * static_cast<double>(epoch);
  m.test_top5 = std::min(1.0, 0.3 + 0.15 * static_cast<double>(epoch));
  m.lr = 0.1 / static_cast<double>(epoch);
  return m;
}

RunCurves run_of(const std::string& name, int64_t epochs, double scale) {
  RunCurves run{name, {}};
  for (int64_t e = 1; e <= epochs; ++e) run.epochs.push_back(epoch_metrics(e, scale));
  return run;
}

// A remix-train output folder holding only what remix-plot reads.
void write_run_folder(const std::string& dir, const RunCurves& run, const std::string& aug) {
  std::filesystem::create_directories(dir);
  for (const EpochMetrics& m : run.epochs) append_metrics(dir + "/metrics.jsonl", m);
  std::ofstream(dir + "/config.json")
      << nlohmann::json{{"model", "resnet20"}, {"aug", aug}, {"data", "folder:/data/cifar10-jpeg/"}}
             .dump();
}

TEST(TrainingCurves, AreWellFormedSvgWithOneLinePerRunAndSeries) {
  const XmlElement svg = parse_xml(render_curves_svg({run_of("a", 4, 1), run_of("b", 7, 2)}));
  EXPECT_EQ(svg.name, "svg");
  EXPECT_EQ(svg.find_all("g").size(), 2u);  // two panels
  EXPECT_EQ(svg.find_all("polyline").size(), 2u * kCurveSeries.size());
}

TEST(TrainingCurves, PointsMapBackToEveryMetricThroughTheirPanelAxes) {
  const std::vector<RunCurves> runs = {run_of("short", 3, 1), run_of("long", 8, 3)};
  const XmlElement svg = parse_xml(render_curves_svg(runs));
  for (const RunCurves& run : runs) expect_curves_match(svg, run);
}

TEST(TrainingCurves, EscapeRunNamesSoTheDocumentStaysWellFormed) {
  const RunCurves run = run_of("a&b<\"c\">", 2, 1);
  const XmlElement svg = parse_xml(render_curves_svg({run}));
  expect_curves_match(svg, run);
}

TEST(TrainingCurves, RefuseNoRunAndARunWithoutEpochs) {
  EXPECT_THROW(render_curves_svg({}), Error);
  EXPECT_THROW(render_curves_svg({RunCurves{"empty", {}}}), Error);
}

TEST(RemixPlot, OverlaysRunFoldersNamedByModelAugAndData) {
  const TemporaryDirectory dir;
  const RunCurves none = run_of("", 5, 1), rm = run_of("", 5, 2);
  write_run_folder(dir / "none", none, "none");
  write_run_folder(dir / "rm", rm, "rm");
  const ProgramResult result =
      run_program("remix-plot", {dir / "none", dir / "rm", "-o", dir / "both.svg"});
  ASSERT_EQ(result.exit_status, 0) << result.output;
  std::ifstream in(dir / "both.svg");
  const XmlElement svg = parse_xml({std::istreambuf_iterator<char>(in), {}});
  expect_curves_match(svg, RunCurves{"resnet20/none/folder:cifar10-jpeg", none.epochs});
  expect_curves_match(svg, RunCurves{"resnet20/rm/folder:cifar10-jpeg", rm.epochs});
}

TEST(RemixPlot, SaysWhatIsWrongWithAMissingEmptyOrMalformedMetricsFile) {
  const TemporaryDirectory dir;
  std::filesystem::create_directories(dir / "nothing");
  std::filesystem::create_directories(dir / "empty");
  std::ofstream(dir / "empty/metrics.jsonl").flush();
  std::filesystem::create_directories(dir / "bad");
  std::ofstream(dir / "bad/metrics.jsonl") << "{\"epoch\": 1}\n";
  const std::pair<const char*, const char*> cases[] = {
      {"nothing", "no metrics.jsonl"},
      {"empty", "has no epoch yet"},
      {"bad", "metrics.jsonl line 1: not a metrics line"}};
  for (const auto& [folder, message] : cases) {
    const ProgramResult result = run_program("remix-plot", {dir / folder, "-o", dir / "x.svg"});
    EXPECT_EQ(result.exit_status, 1) << folder;
    EXPECT_NE(result.output.find(message), std::string::npos) << result.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "x.svg"));
}

TEST(XmlReader, RejectsDocumentsThatAreNotWellFormed) {
  for (const char* bad : {"<a><b></a>", "<a>", "<a x=\"1\" x=\"2\"/>", "<a>&nbsp;</a>",
                          "<a x=1/>", "<a/><b/>", "<a>1 < 2</a>"})
    EXPECT_THROW(parse_xml(bad), std::runtime_error) << bad;
  const XmlElement ok = parse_xml("<?xml version=\"1.0\"?><a k='&lt;'><!-- c --><b>x&amp;y</b></a>");
  EXPECT_EQ(ok.attribute("k"), "<");
  ASSERT_EQ(ok.find_all("b").size(), 1u);
  EXPECT_EQ(ok.find_all("b")[0]->text, "x&y");
}

}  // namespace
}  // namespace remix::app::testing
