#include "tests/apps/xml_reader.h"

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace remix::app::testing {
namespace {

class Reader {
 public:
  explicit Reader(const std::string& text) : s_(text) {}

  XmlElement document() {
    skip_misc();
    XmlElement root = element();
    skip_misc();
    if (i_ != s_.size()) fail("content after the document element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("XML: " + what + " at offset " + std::to_string(i_));
  }
  bool starts(const char* prefix) const { return s_.compare(i_, std::strlen(prefix), prefix) == 0; }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void skip_past(const char* end) {
    const size_t at = s_.find(end, i_);
    if (at == std::string::npos) fail(std::string("missing ") + end);
    i_ = at + std::strlen(end);
  }
  // Whitespace, comments and processing instructions between elements.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<?")) skip_past("?>");
      else if (starts("<!--")) skip_past("-->");
      else return;
    }
  }
  std::string name() {
    const size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                              s_[i_] == '-' || s_[i_] == '_' || s_[i_] == ':' || s_[i_] == '.'))
      ++i_;
    if (i_ == start) fail("expected a name");
    return s_.substr(start, i_ - start);
  }
  std::string decoded(const std::string& raw) const {
    static const std::pair<const char*, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    std::string out;
    for (size_t k = 0; k < raw.size();) {
      if (raw[k] == '<') throw std::runtime_error("XML: '<' inside a value or text");
      if (raw[k] != '&') { out += raw[k++]; continue; }
      bool known = false;
      for (const auto& [entity, c] : kEntities)
        if (raw.compare(k, std::strlen(entity), entity) == 0) {
          out += c, k += std::strlen(entity), known = true;
          break;
        }
      if (!known) throw std::runtime_error("XML: unknown entity in \"" + raw + "\"");
    }
    return out;
  }
  void attributes(XmlElement& e) {
    for (;;) {
      skip_space();
      if (i_ >= s_.size()) fail("unclosed start tag");
      if (s_[i_] == '>' || starts("/>")) return;
      const std::string key = name();
      skip_space();
      if (i_ >= s_.size() || s_[i_] != '=') fail("expected '=' after " + key);
      ++i_;
      skip_space();
      const char quote = i_ < s_.size() ? s_[i_] : 0;
      if (quote != '"' && quote != '\'') fail("expected a quoted value for " + key);
      const size_t end = s_.find(quote, ++i_);
      if (end == std::string::npos) fail("unterminated value of " + key);
      if (!e.attributes.emplace(key, decoded(s_.substr(i_, end - i_))).second)
        fail("duplicate attribute " + key);
      i_ = end + 1;
    }
  }
  XmlElement element() {
    if (i_ >= s_.size() || s_[i_] != '<') fail("expected '<'");
    ++i_;
    XmlElement e;
    e.name = name();
    attributes(e);
    if (starts("/>")) { i_ += 2; return e; }
    ++i_;  // '>'
    for (;;) {
      const size_t text_end = s_.find('<', i_);
      if (text_end == std::string::npos) fail("unclosed element " + e.name);
      e.text += decoded(s_.substr(i_, text_end - i_));
      i_ = text_end;
      if (starts("<!--")) { skip_past("-->"); continue; }
      if (starts("</")) {
        i_ += 2;
        if (name() != e.name) fail("mismatched end tag of " + e.name);
        skip_space();
        if (i_ >= s_.size() || s_[i_] != '>') fail("unclosed end tag of " + e.name);
        ++i_;
        return e;
      }
      e.children.push_back(element());
    }
  }

  const std::string& s_;
  size_t i_ = 0;
};

void collect(const XmlElement& e, const std::string& name, std::vector<const XmlElement*>& out) {
  for (const XmlElement& child : e.children) {
    if (child.name == name) out.push_back(&child);
    collect(child, name, out);
  }
}

}  // namespace

std::vector<const XmlElement*> XmlElement::find_all(const std::string& wanted) const {
  std::vector<const XmlElement*> found;
  collect(*this, wanted, found);
  return found;
}

const std::string& XmlElement::attribute(const std::string& key) const {
  const auto it = attributes.find(key);
  if (it == attributes.end()) throw std::runtime_error("XML: <" + name + "> has no " + key);
  return it->second;
}

XmlElement parse_xml(const std::string& document) { return Reader(document).document(); }

}  // namespace remix::app::testing
