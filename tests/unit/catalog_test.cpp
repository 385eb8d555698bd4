// The catalogs: every entry loads with every number sourced, and broken catalogs are reported precisely.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <yaml-cpp/yaml.h>

#include "sim/catalog.hpp"

namespace kvsim {
namespace {
namespace fs = std::filesystem;

TEST(Catalog, EveryEntryLoads) {
  const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  for (const char* g : {"rtx-4090", "a100-sxm-80g", "h100-sxm", "h200", "b200", "mi300x", "gh200", "rtx-pro-6000"}) {
    const GpuSpec& gpu = c.gpu(g);
    EXPECT_GT(gpu.flops_bf16, 1e14) << g;
    EXPECT_GT(gpu.hbm_capacity, 20e9) << g;
    EXPECT_GT(gpu.hbm_bandwidth, 0.9e12) << g;
    EXPECT_GT(gpu.host_link.bandwidth, 30e9) << g;
  }
  for (const char* l :
       {"pcie-gen4-x16", "pcie-gen5-x16", "pcie-gen6-x16", "nvlink3", "nvlink4", "nvlink5", "nvlink-c2c"}) {
    EXPECT_GT(c.link(l).bandwidth, 30e9) << l;
  }
  for (const char* m :
       {"yi-34b-200k", "yi-34b-200k-hf", "command-r-plus-104b", "llama-3-8b", "llama-3.1-8b", "llama-3-70b",
        "llama-2-7b", "mixtral-8x7b", "deepseek-v2", "qwen2-72b", "qwen3-32b", "qwen3-30b-a3b"}) {
    EXPECT_EQ(validate_model(c.model(m)), "") << m;
    EXPECT_GE(c.model(m).max_context, 4096) << m;  // required; the smallest is Llama 2's 4K
  }
  EXPECT_FALSE(c.node_names().empty());
}

TEST(Catalog, PaperFiguresAreThere) {
  const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  EXPECT_DOUBLE_EQ(c.gpu("a100-sxm-80g").flops_bf16, 312e12);
  EXPECT_DOUBLE_EQ(c.gpu("a100-sxm-80g").hbm_bandwidth, 2.039e12);
  EXPECT_DOUBLE_EQ(c.gpu("a100-sxm-80g").hbm_capacity, 80.0 * (1 << 30));
  EXPECT_DOUBLE_EQ(c.link("pcie-gen4-x16").bandwidth, 31.5e9);
  EXPECT_EQ(c.gpu("gh200").host_link.name, "nvlink-c2c");
  const ModelSpec& yi = c.model("yi-34b-200k");
  EXPECT_EQ(yi.layers, 60);
  EXPECT_EQ(yi.num_kv_heads, 8);
  EXPECT_EQ(yi.num_attention_heads * yi.head_dim, 4096);  // the paper's Eq. 7 width
  EXPECT_DOUBLE_EQ(yi.params, 34e9);
  EXPECT_DOUBLE_EQ(yi.max_context, 200000);  // max_position_embeddings of 01-ai/Yi-34B-200K
  // The paper's simplification and the real checkpoint say which is which, for the reports.
  EXPECT_NE(yi.variant.find("paper's simplified"), std::string::npos) << yi.variant;
  EXPECT_NE(yi.variant.find("yi-34b-200k-hf"), std::string::npos) << yi.variant;
  EXPECT_NE(c.model("yi-34b-200k-hf").variant.find("real"), std::string::npos);
  // Llama 3.1 8B has Llama 3 8B's shapes and a 16x longer context (the Mooncake replay needs it).
  EXPECT_EQ(kv_bytes_per_token(c.model("llama-3.1-8b")), kv_bytes_per_token(c.model("llama-3-8b")));
  EXPECT_DOUBLE_EQ(c.model("llama-3.1-8b").max_context, 131072);
  EXPECT_EQ(c.model("mixtral-8x7b").num_experts, 8);
  EXPECT_LT(c.model("mixtral-8x7b").params_active, c.model("mixtral-8x7b").params);
}

// Every per-dtype tensor peak a GPU lists has a source note in gpus.yaml naming a datasheet or whitepaper and
// saying the figure is dense (issue 19: FP8 and the other dtypes come from the catalog, sourced).
TEST(Catalog, EveryPerDtypePeakIsSourcedAndDense) {
  const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  const YAML::Node file = YAML::LoadFile((fs::path(KVSIM_PLATFORMS_DIR) / "gpus.yaml").string());
  int listed = 0;
  for (const std::string& g : c.gpu_names()) {
    for (const GpuPeakField& f : gpu_peak_fields()) {
      const double peak = c.gpu(g).*f.field;
      if (f.dtype == DType::kBf16) {
        EXPECT_GT(peak, 0) << g;
      }
      if (peak == 0) continue;
      ++listed;
      const YAML::Node note = file[g]["source"][f.key];
      ASSERT_TRUE(note.IsScalar()) << g << "." << f.key << " has no source note";
      const std::string text = note.as<std::string>();
      EXPECT_TRUE(text.find("datasheet") != std::string::npos || text.find("whitepaper") != std::string::npos)
          << g << "." << f.key << ": " << text;
      EXPECT_NE(text.find("dense"), std::string::npos) << g << "." << f.key << ": " << text;
    }
  }
  // bf16 and fp16 on all 9, fp8 on all but the A100, int8 on all but the RTX PRO 6000, fp4 on B200 and RTX PRO 6000
  EXPECT_EQ(listed, 9 + 9 + 8 + 8 + 2);
}

// The FP8 figures the issue names, and the A100's lack of FP8.
TEST(Catalog, Fp8PeaksAreTheDatasheets) {
  const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  EXPECT_EQ(c.gpu("a100-sxm-80g").flops_fp8, 0);
  EXPECT_DOUBLE_EQ(c.gpu("a100-sxm-80g").flops_int8, 624e12);
  for (const char* g : {"h100-sxm", "h200", "gh200"}) {
    EXPECT_DOUBLE_EQ(c.gpu(g).flops_bf16, 989.4e12) << g;
    EXPECT_DOUBLE_EQ(c.gpu(g).flops_fp8, 1978.9e12) << g;
  }
  EXPECT_DOUBLE_EQ(c.gpu("mi300x").flops_fp8, 2614.9e12);
  EXPECT_DOUBLE_EQ(c.gpu("rtx-4090").flops_fp8, 330.3e12);
  EXPECT_DOUBLE_EQ(c.gpu("b200").flops_fp8, 4.5e15);
  EXPECT_DOUBLE_EQ(c.gpu("b200").flops_fp4, 9e15);
}

// The GPUs and models of the recorded vLLM runs and kernel profiles (/work/shared/vllm-runs), with their datasheet
// and config.json figures, found by the names torch and Hugging Face give them (kvsim replay).
TEST(Catalog, VllmRunHardwareAndModels) {
  const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  const GpuSpec& pro = c.gpu("rtx-pro-6000");
  EXPECT_DOUBLE_EQ(pro.hbm_capacity, 96.0 * (1ull << 30));
  EXPECT_DOUBLE_EQ(pro.hbm_bandwidth, 1597e9);
  EXPECT_DOUBLE_EQ(pro.flops_bf16, 503.8e12);
  EXPECT_EQ(pro.host_link.name, "pcie-gen5-x16");
  const GpuSpec& l40s = c.gpu("l40s");
  EXPECT_DOUBLE_EQ(l40s.hbm_capacity, 48.0 * (1ull << 30));
  EXPECT_DOUBLE_EQ(l40s.hbm_bandwidth, 864e9);
  EXPECT_DOUBLE_EQ(l40s.flops_bf16, 362.05e12);
  EXPECT_EQ(l40s.host_link.name, "pcie-gen4-x16");
  EXPECT_NE(c.node_of_gpu("rtx-pro-6000"), nullptr);  // HostMemory's default comes from the GPU's node
  EXPECT_NE(c.node_of_gpu("l40s"), nullptr);

  const ModelSpec& q32 = c.model("qwen3-32b");
  EXPECT_EQ(q32.layers, 64);
  EXPECT_EQ(q32.num_kv_heads, 8);
  EXPECT_EQ(q32.head_dim, 128);
  EXPECT_EQ(kv_bytes_per_token(q32), 2.0 * 64 * 8 * 128 * 2);  // 262144 B/token
  const ModelSpec& moe = c.model("qwen3-30b-a3b");
  EXPECT_EQ(moe.num_experts, 128);
  EXPECT_EQ(moe.experts_per_token, 8);
  EXPECT_DOUBLE_EQ(moe.params, 30.5e9);
  EXPECT_DOUBLE_EQ(moe.params_active, 3.3e9);
  EXPECT_EQ(kv_bytes_per_token(moe), 2.0 * 48 * 4 * 128 * 2);  // 98304 B/token

  EXPECT_EQ(c.gpu_by_device_name("NVIDIA GeForce RTX 4090"), "rtx-4090");
  EXPECT_EQ(c.gpu_by_device_name("NVIDIA RTX PRO 6000 Blackwell Server Edition"), "rtx-pro-6000");
  EXPECT_EQ(c.gpu_by_device_name("NVIDIA L40S"), "l40s");
  EXPECT_EQ(c.gpu_by_device_name("NVIDIA A100-SXM4-80GB"), "a100-sxm-80g");
  EXPECT_EQ(c.gpu_by_device_name("NVIDIA H100 80GB HBM3"), "h100-sxm");
  EXPECT_EQ(c.gpu_by_device_name("NVIDIA H100 PCIe"), "");  // not in the catalog: no guess
  EXPECT_EQ(c.gpu_by_folder_name("RTXPRO6000"), "rtx-pro-6000");
  EXPECT_EQ(c.gpu_by_folder_name("RTX4090"), "rtx-4090");
  EXPECT_EQ(c.gpu_by_folder_name("L40S"), "l40s");
  EXPECT_EQ(c.gpu_by_folder_name("TPUv5"), "");
  EXPECT_EQ(c.model_by_hf_name("meta-llama/Llama-3.1-8B"), "llama-3.1-8b");
  EXPECT_EQ(c.model_by_hf_name("Qwen/Qwen3-32B"), "qwen3-32b");
  EXPECT_EQ(c.model_by_hf_name("qwen/qwen3-30b-a3b-instruct-2507"), "qwen3-30b-a3b");
  EXPECT_EQ(c.model_by_hf_name("Qwen/Qwen3-8B"), "");
  EXPECT_EQ(c.hf_name("qwen3-32b"), "Qwen/Qwen3-32B");
}

TEST(Catalog, UnknownNamesListTheValidOnes) {
  const Catalog c = Catalog::load(KVSIM_PLATFORMS_DIR);
  try {
    c.gpu("a100-sxm-80");
    FAIL();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("did you mean 'a100-sxm-80g'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("h100-sxm"), std::string::npos) << msg;
  }
}

// A copy of the catalog with one file replaced, to check the loader's diagnostics.
fs::path broken_catalog(const std::string& file, const std::string& text) {
  // One directory per test: ctest runs tests in parallel, and two tests breaking the same file must not share it.
  const fs::path dir =
      fs::temp_directory_path() /
      ("kvsim_catalog_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" + file);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(KVSIM_PLATFORMS_DIR)) {
    if (!e.is_regular_file()) continue;  // the catalog is the YAML files; platforms/fitted/ holds step models
    fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
  }
  std::ofstream(dir / file) << text;
  return dir;
}

std::string load_error(const fs::path& dir) {
  try {
    Catalog::load(dir);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Catalog, ReportsBadUnitsUnknownKeysAndMissingSources) {
  const std::string links = R"(pcie-x:
  bandwidth: 32GB
  latnecy: 1us
  source:
    bandwidth: spec
fast:
  bandwidth: 10GBps
  source: {}
)";
  const std::string msg = load_error(broken_catalog("links.yaml", links));
  EXPECT_NE(msg.find("links.yaml:2:14: pcie-x.bandwidth"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pcie-x.latnecy"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'latency'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fast.bandwidth: number has no source note"), std::string::npos) << msg;
  // The GPUs now reference links that are gone.
  EXPECT_NE(msg.find("unknown link"), std::string::npos) << msg;
}

TEST(Catalog, EveryModelNeedsASourcedContext) {
  const std::string entry = R"(m:
  layers: 2
  hidden_size: 64
  num_attention_heads: 4
  num_kv_heads: 4
  head_dim: 16
  params: 1M
  source: {layers: a, hidden_size: a, num_attention_heads: a, num_kv_heads: a, head_dim: a, params: a}
)";
  std::string msg = load_error(broken_catalog("models.yaml", entry));
  EXPECT_NE(msg.find("m.max_context"), std::string::npos) << msg;
  EXPECT_NE(msg.find("required"), std::string::npos) << msg;
  msg = load_error(broken_catalog("models.yaml", entry + "  max_context: 8K\n"));
  EXPECT_NE(msg.find("m.max_context: number has no source note"), std::string::npos) << msg;
}

TEST(Catalog, ReportsYamlSyntaxErrorsWithPosition) {
  const std::string msg = load_error(broken_catalog("models.yaml", "a: [1, 2\nb: 3\n"));
  EXPECT_NE(msg.find("models.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("YAML syntax error"), std::string::npos) << msg;
}

}  // namespace
}  // namespace kvsim
