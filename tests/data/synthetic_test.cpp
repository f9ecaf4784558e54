// The synthetic dataset: determinism (seed, split, thread count), class balance, the value
// range, colour carrying no class information, and stripes running the way their class says.
#include "data/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>

namespace remix::data {
namespace {

SyntheticOptions small(uint64_t seed, int threads = 0) {
  SyntheticOptions o;
  o.train_images = 200;
  o.test_images = 50;
  o.seed = seed;
  o.threads = threads;
  return o;
}

std::vector<uint8_t> pixels(const Dataset& d) {
  return d.images.to_vector<uint8_t>();
}

TEST(Synthetic, IsTheSameForTheSameSeedAndDiffersAcrossSeedsAndSplits) {
  const Dataset a = make_synthetic(Split::train, small(7));
  EXPECT_EQ(a.images.shape(), Shape({200, 32, 32, 3}));
  EXPECT_EQ(a.num_classes, 10);
  EXPECT_EQ(a.class_names.size(), 10u);
  EXPECT_EQ(pixels(a), pixels(make_synthetic(Split::train, small(7))));
  EXPECT_NE(pixels(a), pixels(make_synthetic(Split::train, small(8))));
  const std::vector<uint8_t> test = pixels(make_synthetic(Split::test, small(7)));
  const std::vector<uint8_t> train = pixels(a);
  EXPECT_FALSE(std::equal(test.begin(), test.end(), train.begin()));
}

TEST(Synthetic, DoesNotDependOnTheThreadCount) {
  const std::vector<uint8_t> one = pixels(make_synthetic(Split::train, small(3, 1)));
  EXPECT_EQ(one, pixels(make_synthetic(Split::train, small(3, 2))));
  EXPECT_EQ(one, pixels(make_synthetic(Split::train, small(3, 3))));
}

TEST(Synthetic, HasBalancedClassesAndUsesTheWholeValueRange) {
  const Dataset d = make_synthetic(Split::train, small(1));
  std::vector<int> count(10, 0);
  for (int32_t label : d.labels.to_vector<int32_t>()) ++count.at(label);
  EXPECT_EQ(count, std::vector<int>(10, 20));
  const std::vector<uint8_t> p = pixels(d);
  EXPECT_LT(*std::min_element(p.begin(), p.end()), 10);
  EXPECT_GT(*std::max_element(p.begin(), p.end()), 245);
}

TEST(Synthetic, GivesEveryClassAboutTheSameMeanColour) {
  // Foreground and background colours come from one distribution, so the mean of each class is
  // the mean of that distribution (127.5) whatever its shape: colour does not give the class.
  SyntheticOptions o;
  o.train_images = 2000;
  const Dataset d = make_synthetic(Split::train, o);
  const std::vector<uint8_t> p = pixels(d);
  const int64_t per_image = 32 * 32 * 3;
  for (int64_t cls = 0; cls < 10; ++cls) {
    double sum = 0;
    for (int64_t i = cls; i < d.size(); i += 10)
      for (int64_t k = 0; k < per_image; ++k) sum += p[i * per_image + k];
    EXPECT_NEAR(sum / (d.size() / 10 * per_image), 127.5, 10) << d.class_names[cls];
  }
}

// Mean absolute difference between vertical (dy = 1) or horizontal (dx = 1) neighbours.
double neighbour_difference(const std::vector<uint8_t>& p, int64_t image, int dy, int dx) {
  double sum = 0;
  for (int64_t y = 0; y + dy < 32; ++y)
    for (int64_t x = 0; x + dx < 32; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        const int64_t a = ((image * 32 + y) * 32 + x) * 3 + c;
        const int64_t b = ((image * 32 + y + dy) * 32 + x + dx) * 3 + c;
        sum += std::abs(static_cast<int>(p[a]) - static_cast<int>(p[b]));
      }
  return sum;
}

TEST(Synthetic, DrawsHorizontalAndVerticalStripesTheWayTheyRun) {
  const Dataset d = make_synthetic(Split::train, small(5));
  ASSERT_EQ(d.class_names[3], "hstripes");
  ASSERT_EQ(d.class_names[4], "vstripes");
  const std::vector<uint8_t> p = pixels(d);
  for (int64_t i = 3; i < d.size(); i += 10) {  // horizontal stripes change from row to row
    EXPECT_GT(neighbour_difference(p, i, 1, 0), 1.5 * neighbour_difference(p, i, 0, 1)) << i;
    EXPECT_LT(neighbour_difference(p, i + 1, 1, 0), neighbour_difference(p, i + 1, 0, 1) / 1.5)
        << i + 1;
  }
}

TEST(Synthetic, RejectsAnEmptySplit) {
  SyntheticOptions o;
  o.test_images = 0;
  EXPECT_THROW(make_synthetic(Split::test, o), Error);
}

}  // namespace
}  // namespace remix::data
