// Training curves as a plain SVG picture (no dependency; it opens in any browser).
//
// Two panels against the epoch: on the left the train and test loss, on the right the test top-1
// and top-5 in percent with the learning rate on a second axis. Each run has its colour, each
// series its dash pattern; the legend names both. remix-train writes its run's curves.svg at
// every epoch end; remix-plot overlays several runs.
//
// Every drawn series is a <polyline> that states what it draws, so a reader (or a test) can map
// its points back to numbers:
//   <g class="panel" data-left=.. data-top=.. data-width=.. data-height=.. data-x-min=..
//      data-x-max=.. data-y-min=.. data-y-max=.. [data-y2-min=.. data-y2-max=..]>
//     <polyline data-run="resnet20/rm/synthetic" data-series="test_top1" data-axis="y"
//               points="x,y x,y ..."/>
//   x = left + width * (epoch - x_min) / (x_max - x_min)
//   y = top + height * (1 - (value - y_min) / (y_max - y_min))   (y2 for data-axis="y2")
#pragma once

#include <string>
#include <vector>

#include "apps/metrics.h"

namespace remix::app {

struct RunCurves {
  std::string name;                  // shown in the legend, e.g. "resnet20/rm/synthetic"
  std::vector<EpochMetrics> epochs;  // in epoch order, at least one
};

// The SVG document of `runs` (at least one run, each with at least one epoch).
std::string render_curves_svg(const std::vector<RunCurves>& runs);

// A run folder of remix-train: its metrics.jsonl, named "model/aug/data" from its config.json
// (the folder's name when config.json is missing). Throws when metrics.jsonl is missing, malformed
// or has no epoch yet.
RunCurves read_run_curves(const std::string& run_dir);

// Writes render_curves_svg(runs) to `path` atomically (the old picture or the new one).
void write_curves_svg(const std::string& path, const std::vector<RunCurves>& runs);

}  // namespace remix::app
