#pragma once
/// @file diagnostics.hpp
/// @brief Input errors that name the file, key path, line:column, the bad value and what was expected.
/// All errors found in one input are collected and reported together; the CLI exits with code 2.

#include <stdexcept>
#include <string>
#include <vector>

namespace kvsim {

/// @brief One problem in one input.
struct Diagnostic {
  std::string file;
  std::string key;   ///< YAML key path such as "hardware.gpu", or a CLI flag, or "line 12 field x"
  int line = 0;      ///< 1-based; 0 when unknown
  int column = 0;    ///< 1-based; 0 when unknown
  std::string value; ///< the offending value as written, may be empty
  std::string message;

  /// @brief "file:line:col: key: message (got 'value')".
  std::string str() const;
};

/// @brief A list of diagnostics being collected.
class Diagnostics {
 public:
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  /// @brief All messages, one per line.
  std::string str() const;
  /// @brief Throws InputError if anything was collected.
  void throw_if_any() const;

 private:
  std::vector<Diagnostic> items_;
};

/// @brief Bad input: the CLI prints every diagnostic and exits with code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> items);
  explicit InputError(const std::string& message);
  const std::vector<Diagnostic>& items() const { return items_; }

 private:
  std::vector<Diagnostic> items_;
};

/// @brief Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);
/// @brief The candidate closest to `word` if it is a plausible typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);
/// @brief "a, b, c".
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");
/// @brief `text` as a message may quote it: at most `max_bytes` bytes (then "..." and the full size), with control
/// and non-ASCII bytes written as \xNN, so an error never dumps file content or sends escape codes to a terminal.
std::string escape_token(const std::string& text, std::size_t max_bytes = 60);
/// @brief `s` without leading and trailing spaces and tabs.
std::string trim(const std::string& s);

}  // namespace kvsim
