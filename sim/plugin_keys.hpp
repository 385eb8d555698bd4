#pragma once
/// @file plugin_keys.hpp
/// @brief Scenario keys made from a registry (engine/registry.hpp): the key that chooses an entry by name, and one
/// key per declared parameter under the same section, so a plug-in's knobs are declared once, beside it.

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/registry.hpp"
#include "sim/diagnostics.hpp"
#include "sim/schema.hpp"

namespace kvsim {

/// @brief The key choosing an entry of `registry` (`choice_key`, default `def`) and one key per parameter of any
/// entry under `section`, each saying which entries take it.
template <typename R>
std::vector<KeySpec> plugin_keys(const std::string& choice_key, const std::string& def, const std::string& section,
                                 const R& registry, const std::string& description) {
  std::vector<KeySpec> keys{KeySpec{.path = choice_key,
                                    .type = KeyType::kChoice,
                                    .default_value = def,
                                    .choices = registry.names(),
                                    .description = description}};
  std::map<std::string, std::vector<std::string>> takers;
  for (const auto& e : registry.entries()) {
    for (const auto& p : e.params) {
      auto& names = takers[p.name];
      names.push_back(e.name);
      if (names.size() > 1) continue;
      keys.push_back(KeySpec{.path = section + "." + p.name,
                             .type = KeyType::kQuantity,
                             .dim = p.dim,
                             .default_value = p.default_value,
                             .min = p.min,
                             .min_exclusive = p.min_exclusive,
                             .max = p.max,
                             .description = p.description});
    }
  }
  for (auto& k : keys) {
    if (!k.path.starts_with(section + ".")) continue;
    const auto it = takers.find(k.path.substr(section.size() + 1));
    if (it != takers.end()) k.description = fmt::format("{}: {}", join_names(it->second), k.description);
  }
  return keys;
}

/// @brief The parameters of the entry `v` chooses at `choice_key`, read from `section`. A parameter written in the
/// scenario that the chosen entry does not take is an error naming the entries that do.
template <typename R>
Params plugin_params(const ValueMap& v, const std::string& choice_key, const std::string& section, const R& registry,
                     Diagnostics& diag) {
  const auto& chosen = registry.at(v.string(choice_key));
  Params params;
  std::set<std::string> reported;
  for (const auto& e : registry.entries()) {
    for (const auto& p : e.params) {
      const std::string path = section + "." + p.name;
      if (R::declares(chosen, p.name)) {
        params.set(p.name, v.quantity(path));
      } else if (v.origins.count(path) > 0 && reported.insert(path).second) {
        diag.add(v.at(path, fmt::format("{} is a parameter of {} '{}', not of the chosen '{}'; remove it or set {} "
                                        "to '{}'",
                                        path, registry.kind(), e.name, chosen.name, choice_key, e.name)));
      }
    }
  }
  return params;
}

}  // namespace kvsim
