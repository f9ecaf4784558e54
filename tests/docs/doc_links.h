// The check behind tests/docs: the relative links of the project's Markdown files must resolve.
//
//   [text](path)           path (relative to the Markdown file's folder) names an existing file
//   [text](path#L42)       ... and line 42 exists (#L42-L50: both lines exist)
//   [`name`](path#L42)     ... and line 42 or one of the two lines after it mentions `name`
//
// The third rule is what keeps a walkthrough honest: when code moves, a link that named a
// function by its line now points at other code and the check says so. For code text, the name
// looked for is the text cut at its first '(' or space, after its last "::" or '.'
// (`CpuBackend::paste_resized(src, box)` looks for paste_resized). Links with a scheme (https:,
// mailto:), in-page anchors (#section) and links inside fenced code blocks are not checked.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace remix::docs {

struct DocLink {
  std::string text;    // the link text, e.g. "`conv2d_forward`"
  std::string target;  // e.g. "../tensor/cpu/conv.cpp#L42"
  int line = 0;        // the line of the Markdown text it is on, from 1
};

// The [text](target) links of a Markdown text that point at files of the tree, images included.
std::vector<DocLink> relative_links(const std::string& markdown);

// What is wrong with one link ("" when nothing); `folder` is the Markdown file's folder.
std::string link_problem(const DocLink& link, const std::filesystem::path& folder);

// One message per broken link of `markdown`, each starting "name:line: ".
std::vector<std::string> markdown_problems(const std::string& markdown, const std::string& name,
                                           const std::filesystem::path& folder);

// The Markdown files the check covers under `root`: every README.md and every docs/*.md,
// outside hidden folders and build folders (names starting with "build"), in sorted order.
std::vector<std::filesystem::path> project_markdown_files(const std::filesystem::path& root);

// The text of a file (throws std::runtime_error when it cannot be read).
std::string read_text(const std::filesystem::path& path);

}  // namespace remix::docs
