#pragma once
/// @file schema_doc.hpp
/// @brief docs/scenario-format.md, generated from the declared scenario keys.

#include <string>

namespace kvsim {
/// @brief The scenario format reference as Markdown.
std::string scenario_markdown();
}  // namespace kvsim
