// CPU memory per replica: a node's DDR is shared by the replicas on it (nodes.yaml), `hardware.host_memory` is per
// replica as given, and a replica wider than a node holds the DDR of every node it spans.
#include <gtest/gtest.h>

#include "sim/scenario.hpp"
#include "tests/unit/paper_deployment.hpp"

namespace kvsim {
namespace {

constexpr double kTiB = 1024.0 * 1024 * 1024 * 1024;
constexpr double kGiB = 1024.0 * 1024 * 1024;

Scenario load(const std::string& hardware, const std::string& model = "yi-34b-200k") {
  const std::string text = "model: " + model + "\nhardware: " + hardware +
                           "\nworkload: {document_tokens: 4K, arrival: {type: closed, users: 1}}\n";
  return load_scenario_text(text, "host_memory_test.yaml", {}, paper_test::catalog());
}

TEST(HostMemory, OneGpuReplicaGetsAnEighthOfADgxA100) {
  // DGX A100: 2 TiB for 8 GPUs; a TP-1 replica shares the node with 7 others, whatever hardware.count says.
  for (const char* hw : {"{gpu: a100-sxm-80g}", "{gpu: a100-sxm-80g, count: 8}", "{gpu: a100-sxm-80g, count: 16}"}) {
    const Scenario s = load(hw);
    EXPECT_DOUBLE_EQ(s.deployment.host_memory, 2 * kTiB / 8) << hw;
    EXPECT_EQ(s.host_memory_origin, "dgx-a100's 2 TiB / 8 replicas per node") << hw;
  }
}

TEST(HostMemory, TensorParallelReplicasShareLessOften) {
  // TP 2 on the DGX H100: 4 replicas per node, 2 TiB / 4 = 512 GiB each.
  EXPECT_DOUBLE_EQ(load("{gpu: h100-sxm, tensor_parallel: 2}").deployment.host_memory, 512 * kGiB);
  // TP 8 fills the node: the whole 2 TiB.
  EXPECT_DOUBLE_EQ(load("{gpu: h100-sxm, tensor_parallel: 8}").deployment.host_memory, 2 * kTiB);
  // TP 16 spans two nodes: both nodes' DDR. Llama-2-7B, since its 32 KV heads split over 16 GPUs (Yi's 8 do not).
  const Scenario wide = load("{gpu: h100-sxm, tensor_parallel: 16}", "llama-2-7b");
  EXPECT_DOUBLE_EQ(wide.deployment.host_memory, 4 * kTiB);
  EXPECT_EQ(wide.host_memory_origin, "2 x dgx-h100's 2 TiB");
}

TEST(HostMemory, NamedNodeAndOverride) {
  // A GH200 superchip is one GPU with its own 480 GB of LPDDR5X.
  EXPECT_DOUBLE_EQ(load("{gpu: gh200, node: gh200-superchip}").deployment.host_memory, 480e9);
  // hardware.host_memory is per replica, as given, for any count.
  const Scenario s = load("{gpu: a100-sxm-80g, count: 8, host_memory: 256GiB}");
  EXPECT_DOUBLE_EQ(s.deployment.host_memory, 256 * kGiB);
  EXPECT_EQ(s.host_memory_origin, "hardware.host_memory");
}

TEST(HostMemory, EveryCatalogGpuHasANode) {
  for (const auto& gpu : paper_test::catalog().gpu_names()) {
    EXPECT_NE(paper_test::catalog().node_of_gpu(gpu), nullptr) << gpu;
  }
}

TEST(HostMemory, UnknownNodeIsRefusedWithTheValidNames) {
  try {
    load("{gpu: a100-sxm-80g, node: dgx-z900}");
    FAIL() << "accepted an unknown node";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("hardware.node"), std::string::npos) << what;
    EXPECT_NE(what.find("dgx-a100"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace kvsim
