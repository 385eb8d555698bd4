// Strict YAML loading: regular files of bounded size, one document, no duplicate keys.
#include "sim/yaml_load.hpp"

#include <fmt/format.h>

#include <yaml-cpp/eventhandler.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include "sim/diagnostics.hpp"
#include "sim/input_file.hpp"

namespace kvsim {
namespace fs = std::filesystem;
namespace {

// Every map in `node` with a key repeated: the key's path and both lines.
void find_duplicates(const YAML::Node& node, const std::string& path, const std::string& name,
                     std::vector<Diagnostic>& out) {
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) find_duplicates(node[i], fmt::format("{}[{}]", path, i), name, out);
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, int> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    const std::string child = path.empty() ? key : path + "." + key;
    const int line = kv.first.Mark().line + 1;
    if (auto [it, fresh] = seen.emplace(key, line); !fresh) {
      out.push_back({name, child, line, kv.first.Mark().column + 1, "",
                     fmt::format("key given twice (first at line {}, again at line {}); keep one", it->second, line)});
    }
    find_duplicates(kv.second, child, name, out);
  }
}

// Records where each document starts; the parse itself is done by YAML::Load.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The documents of `text`, by where each starts. yaml-cpp 0.7's YAML::LoadAll never returns on some inputs (a lone
// `,`): its parser yields document after document without moving. A document that starts where the previous one
// did is that case, refused as a syntax error.
std::vector<YAML::Mark> document_starts(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts docs;
  while (parser.HandleNextDocument(docs)) {
    const auto n = docs.starts.size();
    if (n >= 2 && docs.starts[n - 1].pos == docs.starts[n - 2].pos) {
      const YAML::Mark& m = docs.starts[n - 1];
      throw InputError(std::vector<Diagnostic>{
          {name, "", m.line + 1, m.column + 1, "",
           "YAML syntax error: the parser cannot get past this point (a stray ',', ']' or '}' outside brackets?)"}});
    }
  }
  return docs.starts;
}

}  // namespace

YAML::Node load_yaml_text(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    const auto starts = document_starts(text, name);
    if (starts.size() > 1) {
      throw InputError(std::vector<Diagnostic>{
          {name, "", starts[1].line + 1, 0, "",
           fmt::format("{} YAML documents in one file (a second one starts at line {}); kvsim reads exactly one",
                       starts.size(), starts[1].line + 1)}});
    }
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw InputError(
        std::vector<Diagnostic>{{name, "", e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg}});
  }
  std::vector<Diagnostic> dups;
  find_duplicates(root, "", name, dups);
  if (!dups.empty()) throw InputError(dups);
  return root;
}

YAML::Node load_yaml_file(const fs::path& file) {
  check_input_file(file, "a YAML file", kMaxYamlBytes, "2 MiB");
  std::ifstream in(file, std::ios::binary);
  // An empty file is an empty document, not an unreadable one (`text << rdbuf()` fails on zero characters).
  const std::string text(std::istreambuf_iterator<char>(in), {});
  if (!in.is_open() || in.bad()) {
    throw InputError(std::vector<Diagnostic>{{file.string(), "", 0, 0, "", "cannot read file"}});
  }
  return load_yaml_text(text, file.string());
}

}  // namespace kvsim
