// Command-line numbers held to the plausible ranges of scenario keys.
#include "sim/flag_values.hpp"

#include <vector>

#include "sim/diagnostics.hpp"

namespace kvsim {
namespace {

// Why `value` is refused ("inf is outside the plausible range [1, 100000000]"), or "".
std::string range_problem(const std::string& flag, double value, Dim dim, plausible::Range range, bool whole) {
  KeySpec spec = plausible::within(KeySpec{.path = flag, .type = KeyType::kQuantity, .dim = dim}, range);
  spec.whole = whole;
  return check_range(spec, value);
}

}  // namespace

double check_flag_range(const std::string& flag, double value, Dim dim, plausible::Range range, bool whole) {
  if (std::string why = range_problem(flag, value, dim, range, whole); !why.empty()) {
    throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, "", why}});
  }
  return value;
}

double parse_flag_in_range(const std::string& flag, const std::string& text, Dim dim, plausible::Range range,
                           bool whole) {
  const ParsedQuantity q = parse_quantity(text, dim);
  if (!q.value) throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, text, q.error}});
  if (std::string why = range_problem(flag, *q.value, dim, range, whole); !why.empty()) {
    throw InputError(std::vector<Diagnostic>{{"", flag, 0, 0, text, why}});
  }
  return *q.value;
}

}  // namespace kvsim
