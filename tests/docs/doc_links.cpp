// The Markdown link check: see doc_links.h.
#include "tests/docs/doc_links.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace remix::docs {

namespace fs = std::filesystem;

namespace {

// How many lines, from the linked one, may hold the name a code link promises.
constexpr int kNameWindow = 3;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool is_fence(const std::string& line) {
  const size_t first = line.find_first_not_of(' ');
  return first != std::string::npos && line.compare(first, 3, "```") == 0;
}

bool has_scheme(const std::string& target) {
  static const std::regex scheme(R"(^[A-Za-z][A-Za-z0-9+.-]*:)");
  return std::regex_search(target, scheme);
}

// The name a code link text promises: `a::b(c)` -> b. Empty when the text is not code.
std::string promised_name(const std::string& text) {
  if (text.size() < 3 || text.front() != '`' || text.back() != '`') return "";
  std::string name = text.substr(1, text.size() - 2);
  name = name.substr(0, name.find_first_of("( "));
  for (const std::string separator : {"::", ".", "->"}) {
    const size_t at = name.rfind(separator);
    if (at != std::string::npos) name = name.substr(at + separator.size());
  }
  return name;
}

// Checks the line anchor `fragment` (L12 or L12-L20) against `file`; "" when fine.
std::string line_problem(const DocLink& link, const fs::path& file, const std::string& fragment) {
  static const std::regex anchor(R"(^L([0-9]+)(?:-L?([0-9]+))?$)");
  std::smatch m;
  if (!std::regex_match(fragment, m, anchor)) return "";  // a heading anchor: not checked
  const std::vector<std::string> lines = split_lines(read_text(file));
  const int count = static_cast<int>(lines.size());
  const int first = std::stoi(m[1]);
  const int last = m[2].matched ? std::stoi(m[2]) : first;
  if (first < 1 || first > count || last < first || last > count)
    return "line " + fragment.substr(1) + " of " + file.string() + ", which has " +
           std::to_string(count) + " lines";
  const std::string name = promised_name(link.text);
  if (name.empty()) return "";
  const int window_end = std::min(count, first + kNameWindow - 1);
  for (int i = first; i <= window_end; ++i)
    if (lines[static_cast<size_t>(i - 1)].find(name) != std::string::npos) return "";
  return "lines " + std::to_string(first) + "-" + std::to_string(window_end) + " of " +
         file.string() + " do not mention " + name;
}

}  // namespace

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<DocLink> relative_links(const std::string& markdown) {
  static const std::regex link(R"(\[([^\]]*)\]\(([^()\s]+)\))");
  std::vector<DocLink> links;
  bool in_fence = false;
  int number = 0;
  for (const std::string& line : split_lines(markdown)) {
    ++number;
    if (is_fence(line)) in_fence = !in_fence;
    if (in_fence || is_fence(line)) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), link), end; it != end; ++it) {
      const std::string target = (*it)[2];
      if (target.front() == '#' || has_scheme(target)) continue;
      links.push_back({(*it)[1], target, number});
    }
  }
  return links;
}

std::string link_problem(const DocLink& link, const fs::path& folder) {
  const size_t hash = link.target.find('#');
  const fs::path file = folder / link.target.substr(0, hash);
  if (!fs::exists(file)) return "no file " + file.lexically_normal().string();
  if (hash == std::string::npos || fs::is_directory(file)) return "";
  return line_problem(link, file.lexically_normal(), link.target.substr(hash + 1));
}

std::vector<std::string> markdown_problems(const std::string& markdown, const std::string& name,
                                           const fs::path& folder) {
  std::vector<std::string> problems;
  for (const DocLink& link : relative_links(markdown)) {
    const std::string problem = link_problem(link, folder);
    if (!problem.empty())
      problems.push_back(name + ":" + std::to_string(link.line) + ": [" + link.text + "](" +
                         link.target + "): " + problem);
  }
  return problems;
}

std::vector<fs::path> project_markdown_files(const fs::path& root) {
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name.starts_with(".") || name.starts_with("build"))) {
      it.disable_recursion_pending();
      continue;
    }
    const bool in_docs = it->path().parent_path().filename() == "docs";
    if (it->is_regular_file() && (name == "README.md" || (in_docs && name.ends_with(".md"))))
      files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace remix::docs
