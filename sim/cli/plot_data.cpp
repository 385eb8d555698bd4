// CSV reading and gnuplot script pieces for `kvsim plot`.
#include "sim/cli/plot_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>

#include "sim/cli/csv.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim::cli {

std::size_t Table::col(const std::string& name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) {
    throw InputError({Diagnostic{file.string(), "header", 1, 0, name, "no such column; is this a kvsim output?"}});
  }
  return static_cast<std::size_t>(it - header.begin());
}

bool Table::has(const std::string& name) const {
  return std::find(header.begin(), header.end(), name) != header.end();
}

Table read_table(const std::filesystem::path& file) {
  std::ifstream f(file);
  if (!f) throw InputError({Diagnostic{file.string(), "", 0, 0, "", "cannot read this file"}});
  Table t{file, {}, {}};
  std::string line;
  if (!std::getline(f, line)) throw InputError({Diagnostic{file.string(), "", 1, 0, "", "the file is empty"}});
  t.header = csv_split(line);
  for (int n = 2; std::getline(f, line); ++n) {
    auto row = csv_split(line);
    if (row.size() != t.header.size()) {
      throw InputError({Diagnostic{file.string(), "row", n, 0, line.substr(0, 60),
                                   fmt::format("{} fields where the header has {}", row.size(), t.header.size())}});
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

double leading_number(const std::string& value) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  return end == value.c_str() ? NAN : v;
}

std::string gp_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

std::string gp_both(const std::string& name, const std::string& setup, const std::string& body) {
  std::string out = "reset\nset datafile separator ','\nset key below\nset grid\n" + setup;
  out +=
      fmt::format("set terminal pngcairo size 1000,600 noenhanced\nset output {}\n{}", gp_quote(name + ".png"), body);
  out += fmt::format("set terminal svg size 1000,600 noenhanced\nset output {}\n{}unset output\n",
                     gp_quote(name + ".svg"), body);
  return out;
}

std::vector<std::string> short_names(const std::vector<std::string>& keys) {
  const auto last = [](const std::string& k) { return k.substr(k.rfind('.') + 1); };
  std::vector<std::string> out;
  for (const auto& k : keys) {
    const auto alike =
        std::count_if(keys.begin(), keys.end(), [&](const std::string& o) { return last(o) == last(k); });
    out.push_back(alike > 1 ? k : last(k));
  }
  return out;
}

std::string pairs_label(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t k = 0; k < names.size() && k < values.size(); ++k) {
    out += (out.empty() ? "" : ", ") + names[k] + "=" + values[k];
  }
  return out;
}

std::string series_label(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  if (values.empty()) return "all";
  return values.size() == 1 ? values.front() : pairs_label(names, values);
}

std::vector<std::string> file_slugs(const std::vector<std::string>& labels) {
  const auto safe = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
  };
  const auto lower = [](std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::vector<std::string> out;
  std::set<std::string> used;  // lower case: "Swap" and "swap" are one file on a case-insensitive file system
  for (const auto& label : labels) {
    std::string slug;
    for (char c : label) {
      if (safe(c)) {
        slug += c;
      } else if (!slug.empty() && slug.back() != '_') {
        slug += '_';
      }
    }
    if (slug.size() > 60) slug.resize(60);
    while (!slug.empty() && slug.back() == '_') slug.pop_back();
    if (slug.empty()) slug.push_back('_');  // not `= "_"`: GCC 12 warns falsely (-Wrestrict)
    std::string name = slug;
    for (int n = 2; used.count(lower(name)); ++n) name = fmt::format("{}-{}", slug, n);
    used.insert(lower(name));
    out.push_back(name);
  }
  return out;
}

}  // namespace kvsim::cli
