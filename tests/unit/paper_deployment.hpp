#pragma once
// The paper's A100 exactly as its equations use it (312 TFLOP/s, 2 TB/s, 80 GB, 20 GB/s PCIe), and the catalog,
// shared by the unit tests that check kvsim's cost model against the paper's arithmetic.
#include "engine/hardware.hpp"
#include "sim/catalog.hpp"

namespace kvsim::paper_test {

/// @brief The catalog under platforms/, loaded once.
inline const Catalog& catalog() {
  static const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  return c;
}

/// @brief One A100 with the paper's round figures; no activation reserve, perfect efficiency.
inline Deployment paper_a100() {
  Deployment d;
  d.gpu.flops_bf16 = 312e12;
  d.gpu.hbm_bandwidth = 2e12;
  d.gpu.hbm_capacity = 80e9;
  d.host_link.bandwidth = 20e9;
  return d;
}

}  // namespace kvsim::paper_test
