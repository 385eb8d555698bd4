// libFuzzer target for the unit parser (engine/units.cpp). Every input is parsed as every dimension; a parse
// may succeed or fail, but it must say which consistently: a value and no error, or an error and no value.
// Any crash, sanitizer report, exception or broken invariant is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "engine/units.hpp"

namespace {

constexpr kvsim::Dim kDims[] = {kvsim::Dim::kBytes, kvsim::Dim::kBandwidth, kvsim::Dim::kFlops,
                                kvsim::Dim::kFlopRate, kvsim::Dim::kTime, kvsim::Dim::kRate,
                                kvsim::Dim::kTokenRate, kvsim::Dim::kTokens, kvsim::Dim::kCount,
                                kvsim::Dim::kRatio};

[[noreturn]] void finding(const char* what, std::string_view text, kvsim::Dim dim) {
  std::fprintf(stderr, "fuzz_units: %s for dim %d, input '%.*s'\n", what, static_cast<int>(dim),
               static_cast<int>(text.size()), text.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const kvsim::Dim dim : kDims) {
    const kvsim::ParsedQuantity q = kvsim::parse_quantity(text, dim);
    if (q.value.has_value() == !q.error.empty()) finding("value and error disagree", text, dim);
    if (!q.value) continue;
    if (std::isnan(*q.value)) finding("parsed to NaN", text, dim);
    // The printers must take whatever the parser returns.
    (void)kvsim::format_bytes(*q.value);
    (void)kvsim::format_bytes_binary(*q.value);
    (void)kvsim::format_seconds(*q.value);
    (void)kvsim::format_bandwidth(*q.value);
    (void)kvsim::format_flops(*q.value);
  }
  (void)kvsim::dim_description(kvsim::Dim::kBytes);
  return 0;
}
