#include "sim/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace kvsim {

std::string Diagnostic::str() const {
  std::string where = file;
  if (line > 0) where += fmt::format(":{}", line);
  if (line > 0 && column > 0) where += fmt::format(":{}", column);
  std::string out = where.empty() ? "" : where + ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  if (!value.empty()) out += fmt::format(" (got '{}')", escape_token(value, 200));
  return out;
}

std::string escape_token(const std::string& text, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = std::min(text.size(), max_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c >= 0x7f) ? fmt::format("\\x{:02x}", c) : std::string(1, static_cast<char>(c));
  }
  if (n < text.size()) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

std::string Diagnostics::str() const {
  std::string out;
  for (const auto& d : items_) out += "error: " + d.str() + "\n";
  return out;
}

void Diagnostics::throw_if_any() const {
  if (!items_.empty()) throw InputError(items_);
}

namespace {
std::string summarize(const std::vector<Diagnostic>& items) {
  std::string out;
  for (const auto& d : items) out += (out.empty() ? "" : "\n") + d.str();
  return out;
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> items) : std::runtime_error(summarize(items)), items_(std::move(items)) {}

InputError::InputError(const std::string& message) : std::runtime_error(message) {
  items_.push_back(Diagnostic{.message = message});
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  if (word.size() >= 3) {  // a prefix or substring is a better hint than a short edit distance
    for (const auto& c : candidates) {
      if (c.find(word) != std::string::npos) return c;
    }
  }
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace kvsim
