// The links of the project's Markdown files resolve (docs/*.md and every README.md): each names
// an existing file, each line anchor an existing line, and each code link a line that mentions
// the code. The check itself is tested on a small broken tree, so that it is known to fail.
#include "tests/docs/doc_links.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace remix::docs {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(REMIX_TESTS_DIR).parent_path();

TEST(DocLinks, EveryRelativeLinkOfTheProjectDocsResolves) {
  const std::vector<fs::path> files = project_markdown_files(kRoot);
  int line_links = 0;
  std::vector<std::string> problems;
  for (const fs::path& file : files) {
    const std::string text = read_text(file);
    for (const DocLink& link : relative_links(text))
      line_links += link.target.find("#L") != std::string::npos;
    for (const std::string& p : markdown_problems(text, fs::relative(file, kRoot).string(),
                                                  file.parent_path()))
      problems.push_back(p);
  }
  for (const std::string& p : problems) ADD_FAILURE() << p;
  // Not a vacuous pass: the walkthrough and the RecursiveMix page are among the files read, and
  // they hold line links.
  EXPECT_NE(std::find(files.begin(), files.end(), kRoot / "docs" / "WALKTHROUGH.md"), files.end());
  EXPECT_NE(std::find(files.begin(), files.end(), kRoot / "docs" / "RECURSIVEMIX.md"),
            files.end());
  EXPECT_GT(line_links, 20);
}

// A tree with one source file of four lines and a docs/ folder, removed when the test ends.
class BrokenTree : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    root_ = fs::temp_directory_path() /
            ("remix-doc-links-" + test + "-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "docs");
    fs::create_directories(root_ / "src");
    fs::create_directories(root_ / "build" / "docs");
    write("src/conv.cpp", "// convolution\n\nvoid conv2d_forward() {\n}\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name) << text;
  }
  std::vector<std::string> problems(const std::string& markdown) {
    return markdown_problems(markdown, "docs/X.md", root_ / "docs");
  }

  fs::path root_;
};

TEST_F(BrokenTree, AcceptsLinksThatResolve) {
  EXPECT_EQ(problems("[conv](../src/conv.cpp) and [`conv2d_forward`](../src/conv.cpp#L3)\n"
                     "[`conv2d_forward()`](../src/conv.cpp#L1), within three lines; "
                     "[lines](../src/conv.cpp#L2-L4) [folder](../src)\n"),
            std::vector<std::string>{});
}

TEST_F(BrokenTree, ReportsAMissingFile) {
  const std::vector<std::string> p = problems("intro\n[gone](../src/gemm.cpp#L1)\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("docs/X.md:2: [gone](../src/gemm.cpp#L1): no file"), std::string::npos)
      << p[0];
}

TEST_F(BrokenTree, ReportsALineBeyondTheEndOfTheFile) {
  const std::vector<std::string> p =
      problems("[past](../src/conv.cpp#L5) [range](../src/conv.cpp#L2-L9) "
               "[zero](../src/conv.cpp#L0)\n");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NE(p[0].find("line 5 of"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("which has 4 lines"), std::string::npos) << p[0];
}

TEST_F(BrokenTree, ReportsACodeLinkWhoseLinesDoNotMentionTheName) {
  // Line 4 holds only "}": the function moved up, the link did not follow.
  const std::vector<std::string> p = problems("[`conv2d_forward`](../src/conv.cpp#L4)\n"
                                              "[`Conv::conv2d_backward(x)`](../src/conv.cpp#L1)\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[0].find("do not mention conv2d_forward"), std::string::npos) << p[0];
  EXPECT_NE(p[1].find("do not mention conv2d_backward"), std::string::npos) << p[1];
}

TEST_F(BrokenTree, LeavesOutExternalLinksAnchorsAndCodeBlocks) {
  EXPECT_EQ(problems("[paper](https://arxiv.org/abs/2203.06844) [mail](mailto:a@b.c) "
                     "[here](#one-training-step)\n```\n[x](../src/none.cpp)\n```\n"),
            std::vector<std::string>{});
}

TEST_F(BrokenTree, FindsTheReadmesAndDocsButNotBuildFolders) {
  write("README.md", "[ok](src/conv.cpp#L3)\n");
  write("docs/WALK.md", "[`conv2d_forward`](../src/conv.cpp#L9)\n");
  write("build/docs/OLD.md", "[gone](nowhere.cpp)\n");
  const std::vector<fs::path> files = project_markdown_files(root_);
  EXPECT_EQ(files, (std::vector<fs::path>{root_ / "README.md", root_ / "docs" / "WALK.md"}));
  const std::vector<std::string> p =
      markdown_problems(read_text(files[1]), "docs/WALK.md", files[1].parent_path());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("docs/WALK.md:1:"), std::string::npos) << p[0];
}

}  // namespace
}  // namespace remix::docs
