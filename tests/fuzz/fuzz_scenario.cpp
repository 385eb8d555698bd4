// libFuzzer target for the scenario loader (sim/scenario.cpp, sim/schema*.cpp): the input is the text of a
// scenario file. Leading lines "#set key.path=value" (YAML comments, so a seed stays a valid scenario) are also
// applied as --set overrides. Bad input must end in kvsim::InputError; any other exception, crash, hang or
// sanitizer report is a finding. A scenario that loads is not simulated: SimGrid allows one engine per process.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "sim/catalog.hpp"
#include "sim/diagnostics.hpp"
#include "sim/scenario.hpp"

namespace {

const kvsim::Catalog& catalog() {
  static const kvsim::Catalog c = [] {
    try {
      return kvsim::Catalog::load(KVSIM_PLATFORMS_DIR);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz_scenario: cannot load the catalogs in %s: %s\n", KVSIM_PLATFORMS_DIR, e.what());
      std::abort();
    }
  }();
  return c;
}

std::vector<std::string> leading_overrides(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (text.compare(pos, 5, "#set ") == 0) {
    const auto end = text.find('\n', pos);
    out.push_back(text.substr(pos + 5, end == std::string::npos ? std::string::npos : end - pos - 5));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kvsim::Catalog& cat = catalog();
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Relative hf_config paths resolve next to the test data, so seeds can name the config.json files there.
  const std::string name = std::string(KVSIM_TEST_DATA) + "/hf/fuzz-scenario.yaml";
  try {
    const kvsim::Scenario s = kvsim::load_scenario_text(text, name, leading_overrides(text), cat);
    (void)s;
  } catch (const kvsim::InputError& e) {
    if (std::string(e.what()).empty()) {
      std::fprintf(stderr, "fuzz_scenario: InputError with an empty message\n");
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_scenario: uncaught exception (not InputError): %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz_scenario: uncaught non-standard exception\n");
    std::abort();
  }
  return 0;
}
