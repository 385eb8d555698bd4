// libFuzzer target for the Hugging Face config.json loader (sim/hf_config.cpp): the input is written to a
// per-process temp file and loaded with load_hf_config. Bad input must end in kvsim::InputError; any other
// exception, crash, hang or sanitizer report is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/model.hpp"
#include "sim/catalog.hpp"
#include "sim/diagnostics.hpp"

namespace {

const std::filesystem::path& temp_path() {
  static const std::filesystem::path p = [] {
    std::filesystem::path path = "/tmp/kvsim-fuzz-hf-" + std::to_string(::getpid()) + ".json";
    std::atexit([] { std::remove(("/tmp/kvsim-fuzz-hf-" + std::to_string(::getpid()) + ".json").c_str()); });
    return path;
  }();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = temp_path();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) {
      std::fprintf(stderr, "fuzz_hf_config: cannot write %s\n", path.c_str());
      std::abort();
    }
  }
  try {
    const kvsim::ModelSpec m = kvsim::load_hf_config(path);
    // A model that loads must be one the rest of kvsim accepts.
    if (const auto err = kvsim::validate_model(m); !err.empty()) {
      std::fprintf(stderr, "fuzz_hf_config: loaded a model that validate_model rejects: %s\n", err.c_str());
      std::abort();
    }
    (void)kvsim::kv_bytes_per_token(m);
    (void)kvsim::weight_bytes(m);
  } catch (const kvsim::InputError& e) {
    if (std::string(e.what()).empty()) {
      std::fprintf(stderr, "fuzz_hf_config: InputError with an empty message\n");
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_hf_config: uncaught exception (not InputError): %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz_hf_config: uncaught non-standard exception\n");
    std::abort();
  }
  return 0;
}
