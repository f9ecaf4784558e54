// Exercise 3: the naive convolution gives the fast kernel's numbers on awkward shapes.
#include "exercises/naive_conv.h"

#include <gtest/gtest.h>

#include "tensor/primitives.h"
#include "tests/support/test_support.h"

namespace remix::exercises {
namespace {

TEST(NaiveConvExercise, AgreesWithTheFastKernelOnOddShapesStridesAndPadding) {
  struct Case {
    int64_t n, h, w, c, k, r, stride, pad;
  };
  for (const Case& t : {Case{1, 5, 7, 3, 4, 3, 1, 1}, Case{2, 9, 6, 5, 3, 3, 2, 1},
                        Case{3, 8, 8, 16, 17, 1, 2, 0}, Case{1, 4, 4, 2, 2, 3, 1, 0}}) {
    Generator gen(static_cast<uint64_t>(t.n * 100 + t.c));
    const Tensor x = Tensor::uniform({t.n, t.h, t.w, t.c}, gen, -1.0, 1.0);
    const Tensor w = Tensor::uniform({t.k, t.r, t.r, t.c}, gen, -1.0, 1.0);
    const Conv2dGeometry g =
        make_conv2d_geometry(x.shape(), w.shape(), t.stride, t.stride, t.pad, t.pad);
    const Tensor fast = prim::conv2d_forward(x, w, g);
    const Tensor mine = naive_conv2d(x, w, t.stride, t.pad);
    ASSERT_EQ(mine.shape(), fast.shape());
    EXPECT_TRUE(testing::all_close(mine, fast, 1e-4, 1e-4)) << t.h << "x" << t.w << " c" << t.c;
  }
}

}  // namespace
}  // namespace remix::exercises
