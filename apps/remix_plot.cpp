// remix-plot: overlays the training curves of several remix-train runs in one SVG picture.
//
//   remix-plot runs/none runs/cutmix runs/rm -o compare.svg
//
// Each RUN_DIR is the --out folder of a run (its metrics.jsonl and config.json); the runs are
// named model/aug/data in the legend. The picture is described in apps/curves.h.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "apps/curves.h"
#include "tensor/check.h"

using namespace remix;

int main(int argc, char** argv) {
  CLI::App app{"remix-plot: overlay the training curves of remix-train runs in one SVG"};
  std::vector<std::string> run_dirs;
  std::string output = "curves.svg";
  app.add_option("RUN_DIR", run_dirs, "Output folders of remix-train runs (metrics.jsonl)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("-o,--output", output, "The SVG file to write")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    std::vector<app::RunCurves> runs;
    for (const std::string& dir : run_dirs) runs.push_back(app::read_run_curves(dir));
    app::write_curves_svg(output, runs);
    fmt::print("wrote {} ({} run{})\n", output, runs.size(), runs.size() == 1 ? "" : "s");
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "remix-plot: error: {}\n", e.what());
    return 1;
  }
}
