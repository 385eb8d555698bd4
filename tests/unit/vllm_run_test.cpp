// The reader of recorded vLLM runs (workloads/vllm_run.hpp) on the two real runs of /work/shared/vllm-runs, and on
// small broken runs: each problem is an InputError naming the file and the line (exit code 2 in the CLI).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/trace_input.hpp"

namespace kvsim {
namespace {
namespace fs = std::filesystem;

const fs::path kRuns = fs::path(KVSIM_SOURCE_DIR) / ".." / "shared" / "vllm-runs" / "runs";

TEST(VllmRun, ReadsTheRtx4090Run) {
  const fs::path dir = kRuns / "RTX4090" / "Llama-3.1-8B";
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " is missing: the test needs the shared vLLM runs";
  const VllmRun run = load_vllm_run_input(dir.string());
  EXPECT_EQ(run.gpu_folder, "RTX4090");
  EXPECT_EQ(run.meta.model, "meta-llama/Llama-3.1-8B");
  EXPECT_EQ(run.meta.tensor_parallel_size, 1);
  EXPECT_EQ(run.meta.max_num_seqs, 256);
  EXPECT_EQ(run.meta.max_num_batched_tokens, 2048);
  EXPECT_EQ(run.meta.max_model_len, 32768);
  EXPECT_EQ(run.meta.num_gpu_blocks, 2588);
  EXPECT_EQ(run.meta.block_size, 16);
  EXPECT_EQ(run.meta.gpu_memory_utilization, 0.9);
  EXPECT_EQ(run.meta.enable_prefix_caching, true);
  EXPECT_EQ(run.meta.device_name, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(run.meta.device_total_memory_bytes, 25250627584.0);
  ASSERT_EQ(run.requests.size(), 300u);
  const VllmRequest& first = run.requests.front();
  EXPECT_EQ(first.id, "bench-0");
  EXPECT_EQ(first.input_toks, 2358);
  EXPECT_EQ(first.output_toks, 531);
  EXPECT_EQ(first.ttft(), 27537.350135653 - 27536.660701067);  // first_token_ts - queued_ts of line 1
  EXPECT_EQ(first.tpot(), (27554.231018618 - 27537.350135653) / 530);
  EXPECT_EQ(first.latency(), 27554.231018618 - 27536.660701067);
  std::int64_t input = 0, output = 0;
  for (const auto& r : run.requests) input += r.input_toks, output += r.output_toks;
  EXPECT_EQ(input, 257239);  // sums of the file's input_toks and output_toks (python json)
  EXPECT_EQ(output, 195753);
  ASSERT_EQ(run.timeseries.size(), 184u);  // 185 lines with the header
  EXPECT_EQ(run.timeseries.front().t, 1.0);
  EXPECT_EQ(run.timeseries.front().running, 5);
  EXPECT_EQ(run.timeseries.front().waiting, 2);
  EXPECT_EQ(run.timeseries.front().kv_cache_pct, 13.22);
}

TEST(VllmRun, ReadsTheRtxPro6000RunWithoutKvCacheOrHardware) {
  const fs::path dir = kRuns / "RTXPRO6000" / "Llama-3.1-8B";
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " is missing: the test needs the shared vLLM runs";
  const VllmRun run = load_vllm_run_input(dir.string() + "/");  // a trailing slash changes nothing
  EXPECT_EQ(run.gpu_folder, "RTXPRO6000");
  EXPECT_EQ(run.meta.max_num_seqs, 128);
  EXPECT_FALSE(run.meta.max_model_len);  // null in meta.json
  EXPECT_FALSE(run.meta.num_gpu_blocks);
  EXPECT_FALSE(run.meta.block_size);
  EXPECT_FALSE(run.meta.enable_prefix_caching);
  EXPECT_FALSE(run.meta.device_name);
  EXPECT_FALSE(run.meta.device_total_memory_bytes);
  ASSERT_EQ(run.requests.size(), 300u);
  EXPECT_EQ(run.requests.front().ttft(), 479748.510151426 - 479748.340626232);
  EXPECT_EQ(run.timeseries.size(), 67u);
}

// A run directory with the RTX 4090 run's meta.json and timeseries.csv and the given requests.jsonl text.
fs::path broken_run(const std::string& name, const std::string& requests) {
  const fs::path dir = fs::temp_directory_path() / "kvsim_vllm_run_test" / "GPU" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path src = kRuns / "RTX4090" / "Llama-3.1-8B";
  fs::copy_file(src / "meta.json", dir / "meta.json");
  fs::copy_file(src / "timeseries.csv", dir / "timeseries.csv");
  std::ofstream(dir / "requests.jsonl") << requests;
  return dir;
}

const std::string kGood =
    R"({"request_id": "a", "input_toks": 10, "output_toks": 5, "arrival_time": 1.0, "queued_ts": 100.0, )"
    R"("scheduled_ts": 100.5, "first_token_ts": 101.0, "last_token_ts": 102.0})"
    "\n";

// The one diagnostic of reading `dir`.
Diagnostic problem_of(const fs::path& dir) {
  try {
    load_vllm_run_input(dir.string());
  } catch (const InputError& e) {
    EXPECT_EQ(e.items().size(), 1u);
    return e.items().front();
  }
  ADD_FAILURE() << "no error for " << dir;
  return {};
}

TEST(VllmRun, BadLinesNameTheFileTheLineAndTheField) {
  struct Case {
    std::string name, line2, field, message;
  };
  const std::vector<Case> cases{
      {"malformed", "{\"input_toks\": 10,", "", "not valid JSON"},
      {"missing",
       R"({"input_toks": 10, "output_toks": 5, "arrival_time": 1, "queued_ts": 1, "scheduled_ts": 1, )"
       R"("first_token_ts": 2})",
       "last_token_ts", "missing field"},
      {"negative", R"({"input_toks": -3, "output_toks": 5})", "input_toks", "expected a number in [1, 1e+08]"},
      {"absurd", R"({"input_toks": 1e12, "output_toks": 5})", "input_toks", "expected a number in [1, 1e+08]"},
      {"order",
       R"({"input_toks": 10, "output_toks": 5, "arrival_time": 1, "queued_ts": 5, "scheduled_ts": 6, )"
       R"("first_token_ts": 4, "last_token_ts": 7})",
       "first_token_ts", "expected a time at or after scheduled_ts"},
  };
  for (const auto& c : cases) {
    const fs::path dir = broken_run(c.name, kGood + c.line2 + "\n");
    const Diagnostic d = problem_of(dir);
    EXPECT_EQ(d.file, (dir / "requests.jsonl").string()) << c.name;
    EXPECT_EQ(d.line, 2) << c.name;
    EXPECT_EQ(d.key, c.field) << c.name;
    EXPECT_NE(d.message.find(c.message), std::string::npos) << c.name << ": " << d.message;
  }
}

TEST(VllmRun, MissingPiecesAreInputErrors) {
  EXPECT_NE(problem_of(kRuns / "NOSUCHGPU" / "nothing").message.find("no such run directory"), std::string::npos);
  const fs::path dir = broken_run("no_requests", kGood);
  fs::remove(dir / "requests.jsonl");
  const Diagnostic d = problem_of(dir);
  EXPECT_EQ(d.file, (dir / "requests.jsonl").string());
  EXPECT_NE(d.message.find("does not exist"), std::string::npos) << d.message;
  const fs::path empty = broken_run("empty", "\n");
  EXPECT_NE(problem_of(empty).message.find("no request"), std::string::npos);
}

TEST(VllmRun, BadMetaAndTimeseriesNameTheirLine) {
  const fs::path dir = broken_run("bad_meta", kGood);
  std::ofstream(dir / "meta.json")
      << "{\n  \"model\": \"m\",\n  \"engine_kwargs\": {\n    \"tensor_parallel_size\": 0,\n"
         "    \"max_num_seqs\": 8, \"max_num_batched_tokens\": 64}\n}\n";
  Diagnostic d = problem_of(dir);
  EXPECT_EQ(d.file, (dir / "meta.json").string());
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.key, "tensor_parallel_size");
  EXPECT_EQ(d.value, "0");

  const fs::path ts = broken_run("bad_timeseries", kGood);
  std::ofstream(ts / "timeseries.csv") << "t,prompt_throughput,gen_throughput,running,waiting,kv_cache_pct\n"
                                          "1.0,0,0,1,0,5\n2.0,0,0,1,0,150\n";
  d = problem_of(ts);
  EXPECT_EQ(d.file, (ts / "timeseries.csv").string());
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.key, "kv_cache_pct");
  EXPECT_EQ(d.value, "150");
}

}  // namespace
}  // namespace kvsim
