// A small XML reader for the tests of the SVG pictures: elements, attributes in double or single
// quotes, text, comments and the <?xml ...?> declaration; the five predefined entities. Anything
// not well-formed (an unclosed or mismatched tag, a duplicate attribute, a stray '<' or '&')
// throws std::runtime_error naming the offset.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace remix::app::testing {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<XmlElement> children;
  std::string text;  // the element's own character data, entities decoded

  // Every element below this one (depth first) whose name is `name`.
  std::vector<const XmlElement*> find_all(const std::string& name) const;
  const std::string& attribute(const std::string& key) const;  // throws when missing
};

// The document element of `document`.
XmlElement parse_xml(const std::string& document);

}  // namespace remix::app::testing
