// Candidate scenario documents: edits on the YAML tree, paths rebased, emitted as text.
#include "sim/cli/plan_yaml.hpp"

#include <sstream>
#include <utility>

#include "sim/diagnostics.hpp"
#include "sim/scenario.hpp"
#include "sim/scenario_override.hpp"

namespace kvsim::cli {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  for (std::size_t s = 0, e; s <= path.size(); s = e + 1) {
    e = path.find('.', s);
    if (e == std::string::npos) e = path.size();
    parts.push_back(path.substr(s, e - s));
  }
  return parts;
}

// Removes the key at a dotted path, if it is there.
void remove_path(YAML::Node& root, const std::string& path) {
  const std::vector<std::string> parts = split_path(path);
  YAML::Node node;
  node.reset(root);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node.IsMap()) return;
    const YAML::Node child = std::as_const(node)[parts[i]];
    if (!child) return;
    node.reset(child);
  }
  if (node.IsMap()) node.remove(parts.back());
}

// The scalar node at a dotted path, or an undefined node.
YAML::Node find_path(const YAML::Node& root, const std::string& path) {
  YAML::Node node;
  node.reset(root);
  for (const auto& p : split_path(path)) {
    if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node child = std::as_const(node)[p];
    if (!child) return YAML::Node(YAML::NodeType::Undefined);
    node.reset(child);
  }
  return node;
}

}  // namespace

YAML::Node candidate_document(const YAML::Node& base, const std::vector<std::string>& user_sets,
                              const CandidateEdits& edits) {
  YAML::Node root = YAML::Clone(base);
  Diagnostics diag;
  for (const auto& s : user_sets) apply_scenario_override(root, s, diag);
  for (const auto& r : edits.removes) remove_path(root, r);
  for (const auto& s : edits.sets) apply_scenario_override(root, s, diag);
  diag.throw_if_any();
  return root;
}

void rebase_paths(YAML::Node& root, const fs::path& from_dir, const fs::path& to_dir) {
  const fs::path from = fs::absolute(from_dir).lexically_normal(), to = fs::absolute(to_dir).lexically_normal();
  for (const auto& k : scenario_schema().keys()) {
    if (k.description.find("relative to the scenario file") == std::string::npos) continue;
    YAML::Node n = find_path(root, k.path);
    if (!n.IsDefined() || !n.IsScalar() || n.Scalar().empty() || fs::path(n.Scalar()).is_absolute()) continue;
    n = (from / n.Scalar()).lexically_normal().lexically_relative(to).string();
  }
}

std::string document_text(const YAML::Node& root, const std::string& header) {
  YAML::Emitter e;
  e << root;
  std::ostringstream out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) out << "# " << line << "\n";
  out << e.c_str() << "\n";
  return out.str();
}

}  // namespace kvsim::cli
