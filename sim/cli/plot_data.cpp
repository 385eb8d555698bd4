// CSV reading and gnuplot script pieces for `kvsim plot`.
#include "sim/cli/plot_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

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

}  // namespace kvsim::cli
