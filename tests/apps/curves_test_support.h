// Reading a training-curve SVG back into numbers (shared by the curve tests and the trainer's).
#pragma once

#include <array>
#include <string>

#include "apps/curves.h"
#include "tests/apps/xml_reader.h"

namespace remix::app::testing {

// The metrics fields drawn, as data-series names them.
inline constexpr std::array<const char*, 5> kCurveSeries = {"train_loss", "test_loss",
                                                            "test_top1", "test_top5", "lr"};

// EXPECTs that `svg` holds one line per series of `run` (by run.name) whose points, mapped back
// through their panel's axes, are the run's epochs and values (top-k in percent).
void expect_curves_match(const XmlElement& svg, const RunCurves& run);

}  // namespace remix::app::testing
