#pragma once
/// @file plan_yaml.hpp
/// @brief The scenario document of a `kvsim plan` candidate: the input scenario with the user's `--set`s and the
/// candidate's edits applied, written as a runnable YAML file wherever it is put.

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/cli/plan_space.hpp"

namespace kvsim::cli {

/// @brief A clone of `base` with `user_sets` applied, then the edits' removals and sets; throws InputError naming a
/// malformed set.
YAML::Node candidate_document(const YAML::Node& base, const std::vector<std::string>& user_sets,
                              const CandidateEdits& edits);

/// @brief Rewrites the relative paths of the keys the schema reads relative to the scenario file (trace, profile,
/// coefficients, Hugging Face config) so that a document read from `from_dir` reads the same files from `to_dir`.
void rebase_paths(YAML::Node& root, const std::filesystem::path& from_dir, const std::filesystem::path& to_dir);

/// @brief The document as YAML text after `header` (comment lines, each starting with "# ").
std::string document_text(const YAML::Node& root, const std::string& header);

}  // namespace kvsim::cli
