// Strict YAML loading: regular files of bounded size, one document, no duplicate keys.
#include "sim/yaml_load.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <map>
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

}  // namespace

YAML::Node load_yaml_text(const std::string& text, const std::string& name) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    throw InputError(
        std::vector<Diagnostic>{{name, "", e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg}});
  }
  if (docs.size() > 1) {
    throw InputError(std::vector<Diagnostic>{
        {name, "", docs[1].Mark().line + 1, 0, "",
         fmt::format("{} YAML documents in one file (a second one starts at line {}); kvsim reads exactly one",
                     docs.size(), docs[1].Mark().line + 1)}});
  }
  std::vector<Diagnostic> dups;
  const YAML::Node root = docs.empty() ? YAML::Node() : docs.front();
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
