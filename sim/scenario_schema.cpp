// The declared keys of a scenario file: each key once, with type, unit, default, range and description.
// docs/scenario-format.md is generated from this table (`kvsim schema --markdown`).
#include "engine/cluster/router.hpp"
#include "engine/cost/step_model.hpp"
#include "engine/offload_policy.hpp"
#include "engine/sched/scheduler.hpp"
#include "sim/plausible.hpp"
#include "sim/plugin_keys.hpp"
#include "sim/scenario.hpp"

namespace kvsim {
namespace {

using namespace plausible;

KeySpec quantity(std::string path, Dim dim, std::string def, std::string desc, Range r) {
  return within(KeySpec{.path = std::move(path),
                        .type = KeyType::kQuantity,
                        .dim = dim,
                        .default_value = std::move(def),
                        .description = std::move(desc)},
                r);
}

KeySpec ratio(std::string path, std::string def, std::string desc, Range r = {0, 1, true}) {
  return quantity(std::move(path), Dim::kRatio, std::move(def), std::move(desc), r);
}

KeySpec integer(std::string path, std::string def, std::string desc, Range r) {
  return within(KeySpec{.path = std::move(path),
                        .type = KeyType::kInteger,
                        .default_value = std::move(def),
                        .description = std::move(desc)},
                r);
}

// A distribution of whole things (tokens, rounds) or of a duration.
KeySpec dist(std::string path, Dim dim, std::string def, std::string desc, Range r) {
  KeySpec k = within(KeySpec{.path = std::move(path),
                             .type = KeyType::kDistribution,
                             .dim = dim,
                             .default_value = std::move(def),
                             .description = std::move(desc)},
                     r);
  k.whole = dim != Dim::kTime;
  return k;
}

KeySpec choice(std::string path, std::string def, std::vector<std::string> choices, std::string desc) {
  return KeySpec{.path = std::move(path),
                 .type = KeyType::kChoice,
                 .default_value = std::move(def),
                 .choices = std::move(choices),
                 .description = std::move(desc)};
}

KeySpec str(std::string path, std::string def, std::string desc) {
  return KeySpec{.path = std::move(path),
                 .type = KeyType::kString,
                 .default_value = std::move(def),
                 .description = std::move(desc)};
}

KeySpec knob(const std::string& key, Dim dim, std::string def, std::string desc, Range r) {
  KeySpec k = quantity("model.kv_compression." + key, dim, std::move(def), std::move(desc), r);
  k.whole = dim == Dim::kTokens;
  return k;
}

KeySpec fraction(const std::string& key, std::string def, std::string desc, bool zero_ok) {
  return knob(key, Dim::kRatio, std::move(def), std::move(desc), Range{0, 1, !zero_ok});
}

// Section 3 / Table 2 of the paper. Each description says in which phase the knob acts; the default is no change.
std::vector<KeySpec> compression_keys() {
  const std::string prefix = "model.kv_compression.";
  return {
      KeySpec{.path = prefix + "layer.skip_fraction",
              .type = KeyType::kQuantity,
              .dim = Dim::kRatio,
              .default_value = "0",
              .min = 0,
              .max = 0.99,
              .description = "CALM/LayerSkip, both phases: fraction of layers not run (FLOPs, weight reads, KV)"},
      knob("layer.yoco_window", Dim::kTokens, "0",
           "YOCO, both phases: self-decoder window; half the layers share one global KV, prefill skips the "
           "cross-decoder (0 = off)",
           kTokensOrNone),
      fraction("layer.kv_fraction", "1",
               "cross-layer KV sharing, both phases: fraction of layers storing KV; FLOPs and KV reads unchanged",
               false),
      fraction("head.keep_after_prefill", "1", "Voita et al./retrieval heads, after prefill: KV heads kept", false),
      fraction("token.keep_after_prefill", "1", "H2O/FastGen, after prefill: tokens of KV kept", false),
      // DMC reports 8x; 1000 tokens per entry leaves nothing of the context.
      knob("token.merge_ratio", Dim::kCount, "1", "DMC, both phases: tokens merged into one KV entry as written",
           {1, 1000}),
      fraction("token.decode_read_fraction", "1", "SnapKV, decode only: fraction of the stored KV a step reads", false),
      integer(prefix + "hidden.kv_bits", "0", "KIVI, both phases: KV bits, 16, 8, 4 or 2 (0 = model.kv_dtype)",
              {0, 16}),
      integer(prefix + "hidden.kv_group_size", "0",
              "KIVI: elements per quantization group, each with an fp16 scale and zero point, adding 32 / size bits "
              "per element (0 = none)",
              {0, 1e6}),  // a group wider than any hidden size is one scale per vector
      // A dequantization costs a few FLOPs; 1000 per element is a unit slip.
      knob("hidden.dequant_flops_per_element", Dim::kCount, "0", "FLOPs to dequantize each KV element read", {0, 1000}),
      fraction("hidden.low_rank_ratio", "1", "both phases: low-rank KV width / original width", false),
      knob("attention.window", Dim::kTokens, "0", "both phases: sliding-window width W (0 = full attention)",
           kTokensOrNone),
      fraction("attention.window_layer_fraction", "1", "fraction of layers using the window", false),
      fraction("attention.linear_layer_fraction", "0", "both phases: linear/state-space layers (constant state)", true),
      integer(prefix + "speculative.draft_tokens", "0",
              "TriForce, decode only: tokens drafted per target step (0 = off)",
              {0, 256}),  // speculative decoding drafts 2..16 tokens; 256 is far past any useful acceptance
      fraction("speculative.acceptance", "0", "probability the target accepts a drafted token", true),
      knob("speculative.draft_params", Dim::kCount, "0", "draft model parameters, bf16 in HBM (0 = self-draft)",
           {0, kParams.max}),
      knob("speculative.draft_kv_tokens", Dim::kTokens, "0",
           "tokens of KV the draft keeps per session and reads per step", kTokensOrNone),
      integer(prefix + "weights.bits", "0", "WKVQuant, both phases: weight bits, 16, 8, 4 or 2 (0 = weights_dtype)",
              {0, 16}),
      fraction("conditional.heavy_token_fraction", "1", "CoLT5, both phases: tokens through the heavy branch", false),
      fraction("conditional.light_branch_cost", "0", "CoLT5: light branch cost per token, fraction of a layer", true),
  };
}

std::vector<KeySpec> hardware_keys() {
  return {
      str("hardware.gpu.catalog", "a100-sxm-80g",
          "GPU from platforms/gpus.yaml (`hardware.gpu: NAME` is short for this)"),
      quantity("hardware.gpu.flops_bf16", Dim::kFlopRate, "", "override the GPU's dense bf16 peak FLOP/s", kFlopRate),
      quantity("hardware.gpu.flops_fp16", Dim::kFlopRate, "", "override the GPU's dense fp16 peak FLOP/s", kFlopRate),
      quantity("hardware.gpu.flops_fp8", Dim::kFlopRate, "",
               "override the GPU's dense fp8 peak FLOP/s (a GPU without fp8 gains one)", kFlopRate),
      quantity("hardware.gpu.flops_int8", Dim::kFlopRate, "", "override the GPU's dense int8 peak OP/s", kFlopRate),
      quantity("hardware.gpu.flops_fp4", Dim::kFlopRate, "", "override the GPU's dense fp4 peak FLOP/s", kFlopRate),
      quantity("hardware.gpu.hbm_capacity", Dim::kBytes, "", "override the GPU's HBM capacity", kMemory),
      quantity("hardware.gpu.hbm_bandwidth", Dim::kBandwidth, "", "override the GPU's HBM bandwidth", kBandwidth),
      integer("hardware.count", "0",
              "GPUs in total; replicas = count / tensor_parallel, at most 4096 (0 = tensor_parallel)", kGpuCount),
      integer("hardware.tensor_parallel", "1",
              "GPUs per model replica; must divide the model's KV heads (each GPU holds whole KV heads)",
              kTensorParallel),
      str("hardware.host_link.catalog", "", "host link from platforms/links.yaml (default: the GPU's own)"),
      quantity("hardware.host_link.bandwidth", Dim::kBandwidth, "", "override the host link's bandwidth per direction",
               kBandwidth),
      KeySpec{
          .path = "hardware.host_link.shared",
          .type = KeyType::kBool,
          .default_value = "true",
          .description = "one host link per replica, shared by its GPUs (the paper's assumption); false = one per GPU"},
      ratio("hardware.host_link.efficiency", "1", "fraction of the host link's bandwidth achieved by KV copies",
            kEfficiency),
      str("hardware.node", "",
          "node from platforms/nodes.yaml whose CPU memory the replicas share (default: the node built around the "
          "GPU)"),
      quantity("hardware.host_memory", Dim::kBytes, "",
               "CPU DDR per replica for swapped KV (default: the node's memory / the replicas that share the node)",
               kHostMemory),
      ratio("hardware.compute_efficiency", "1", "fraction of peak FLOP/s achieved (the paper's Fig. 1 uses ~0.7)",
            kEfficiency),
      ratio("hardware.memory_efficiency", "1", "fraction of peak HBM bandwidth achieved", kEfficiency),
      quantity("hardware.activation_reserve", Dim::kBytes, "0GiB", "HBM per GPU kept free for activations",
               kMemoryOrNone),
      // In total over the replicas, so up to 4096 replicas' worth of 100 TiB.
      quantity("hardware.nvme.capacity", Dim::kBytes, "0B",
               "NVMe for KV in total, split across replicas; used by the tiered policy (0 = no NVMe tier)",
               {0, kMaxReplicas * kMemoryOrNone.max}),
      quantity("hardware.nvme.bandwidth", Dim::kBandwidth, "7GBps",
               "NVMe read and write bandwidth per replica (a PCIe gen4 x4 SSD reads about 7 GB/s)", kBandwidth),
  };
}

std::vector<KeySpec> workload_keys() {
  KeySpec times = within(KeySpec{.path = "workload.arrival.times",
                                 .type = KeyType::kQuantityList,
                                 .dim = Dim::kTime,
                                 .description = "session start times (type: list), in order, at most 100,000 "
                                                "(replay a longer schedule from a trace file)"},
                         kDelay);
  times.max_items = kMaxListTimes;
  return {
      dist("workload.document_tokens", Dim::kTokens, "50000", "tokens of the document in round 1's prompt",
           kTokensOrNone),
      dist("workload.question_tokens", Dim::kTokens, "100", "new prompt tokens of each question", kTokens),
      dist("workload.answer_tokens", Dim::kTokens, "250", "tokens generated per round (one screen, the paper's 250)",
           kTokens),
      dist("workload.rounds", Dim::kCount, "5", "question rounds per session", kRounds),
      dist("workload.think_time", Dim::kTime, "60s", "time a user reads and thinks between rounds", kDelay),
      choice("workload.arrival.type", "poisson", {"poisson", "closed", "list"},
             "poisson: open loop at `rate`; closed: `users` users back to back; list: sessions start at `times`"),
      quantity("workload.arrival.rate", Dim::kRate, "",
               "session arrival rate (type: poisson), e.g. 60/h; rate x duration at most 1e8 sessions", kArrivalRate),
      integer("workload.arrival.users", "0", "concurrent users (type: closed)", kUsers),
      quantity("workload.arrival.ramp_up", Dim::kTime, "0s",
               "closed loop: user u starts at u x ramp_up / users, so users do not all ask at once", kDelay),
      times,
      quantity("workload.duration", Dim::kTime, "1h", "no session starts after this simulated time", kDuration),
      integer("workload.sessions", "0", "stop starting sessions after this many (0 = no limit)",
              {0, kMaxExpectedSessions}),
      quantity("workload.warmup", Dim::kTime, "0s", "sessions starting earlier are excluded from statistics", kDelay),
      str("workload.trace.path", "",
          "replay this trace instead of synthetic sessions, relative to the scenario file (docs/traces.md)"),
      choice("workload.trace.format", "auto", {"auto", "mooncake", "ragpulse", "azure", "kvsim"},
             "the trace's format; auto: from the file name"),
      // Slowing a trace 1000x or compressing it 1e6x is the widest useful stretch of recorded time.
      quantity("workload.trace.speedup", Dim::kCount, "1", "divide the trace's times and think times by this",
               {1e-3, 1e6}),
      integer("workload.trace.max_requests", "0", "replay only the first N requests of the file (0 = all)",
              {0, 1e10}),  // ten billion requests: more than any published trace holds
      ratio("workload.trace.session_sample", "1",
            "replay this fraction of sessions, picked by a hash of the session id"),
      integer("workload.trace.block_tokens", "512", "prompt tokens per hash id of the trace", kTokens),
      choice("workload.trace.on_error", "stop", {"stop", "skip"},
             "a bad trace line stops with an error, or is skipped and counted"),
  };
}

void append(std::vector<KeySpec>& keys, std::vector<KeySpec> more) {
  for (auto& k : more) keys.push_back(std::move(k));
}

std::vector<KeySpec> scheduler_keys() {
  std::vector<KeySpec> keys =
      plugin_keys("scheduler.type", "fcfs-reserve", "scheduler", schedulers(), "the replica scheduler");
  append(keys, plugin_keys("router.type", "session-affinity", "router", routers(),
                           "which replica each round goes to; session-affinity keeps a session where its KV lives"));
  append(keys, plugin_keys("step_model.type", "roofline", "step_model", step_models(),
                           "how long a forward step takes (the executor runs its demand per resource)"));
  keys.push_back(str("step_model.profile", "",
                     "profiled: an LLMServingSim profile bundle directory (meta.yaml, tp<N>/*.csv) of the model on "
                     "the GPU, relative to the scenario file; its tp<N> is hardware.tensor_parallel"));
  keys.push_back(str("step_model.coefficients", "",
                     "fitted: the coefficient file written by `kvsim calibrate`, relative to the scenario file "
                     "(required for step_model.type fitted, refused otherwise)"));
  append(keys, plugin_keys("scheduler.kv_offload.policy", "swap", "scheduler.kv_offload", offload_policies(),
                           "what happens to KV when HBM is short; when not written, recompute with scheduler.type "
                           "vllm-v1 (vLLM's preemption), swap otherwise"));
  append(keys, plugin_keys("scheduler.kv_offload.victim", "lru", "scheduler.kv_offload.victim", victim_policies(),
                           "which idle session's KV leaves HBM first"));
  append(
      keys,
      {
          integer("scheduler.max_batch_tokens", "8192", "token budget of one forward step (chunked prefill)", kTokens),
          // A step of a million rounds is beyond any GPU's memory for their activations.
          integer("scheduler.max_batch_size", "256", "rounds in one forward step", {1, 1e6}),
          integer("scheduler.block_tokens", "16", "tokens per KV block (paged KV)", kTokens),
          KeySpec{.path = "scheduler.prefix_cache",
                  .type = KeyType::kBool,
                  .default_value = "true",
                  .description = "reuse the KV of cached prompt blocks (trace block ids) across requests of a replica, "
                                 "in HBM and DDR (docs/traces.md)"},
          choice("scheduler.attention_flops", "causal", {"full", "causal"},
                 "prefill attention FLOPs. causal: each token against the tokens up to it, as vLLM's kernels compute; "
                 "full: each prompt token against the whole prompt (the paper's Eq. 7, set by the paper's scenarios). "
                 "Either way a prefill costs the same in one chunk or many"),
          KeySpec{.path = "scheduler.fast_forward",
                  .type = KeyType::kBool,
                  .default_value = "true",
                  .description = "run identical decode steps between two batch changes as one SimGrid activity; the "
                                 "results are the same to 1e-9 (docs/design.md), only faster"},
      });
  return keys;
}

// A scenario with `cluster.pools` serves from several pools of replicas joined by a network (docs/cluster.md); one
// without is one mixed pool built from `hardware`.
std::vector<KeySpec> cluster_keys() {
  KeySpec replicas = integer("cluster.pools.*.replicas", "", "replicas in the pool", {1, kMaxReplicas});
  replicas.required = true;
  return {
      choice("cluster.pools.*.role", "mixed", {"mixed", "prefill", "decode"},
             "mixed: whole rounds; prefill: only prefills, whose KV then moves to a decode replica over the network; "
             "decode: decodes rounds prefilled elsewhere (and, with cluster.pd.later_rounds decode, prefills later "
             "rounds' questions)"),
      replicas,
      str("cluster.pools.*.gpu", "", "GPU of the pool from platforms/gpus.yaml (default: hardware.gpu)"),
      integer("cluster.pools.*.tensor_parallel", "0", "GPUs per replica of the pool (0 = hardware.tensor_parallel)",
              {0, kTensorParallel.max}),
      str("cluster.pools.*.node", "",
          "node type from platforms/nodes.yaml the pool's replicas are packed onto (default: hardware.node, else the "
          "node built around the GPU); replicas on one node share its CPU memory and its NIC"),
      str("cluster.pools.*.scheduler", "", "the pool's scheduler.type (default: scheduler.type)"),
      str("cluster.pools.*.step_model", "", "the pool's step_model.type (default: step_model.type)"),
      quantity("cluster.network.bandwidth", Dim::kBandwidth, "50GBps",
               "NIC bandwidth of each node, each direction (400 Gb/s RDMA = 50 GB/s); KV moving between nodes "
               "shares the sending node's NIC and the receiving node's",
               kBandwidth),
      quantity("cluster.network.latency", Dim::kTime, "5us", "latency of one KV move between nodes", {0, 10}),
      choice("cluster.pd.transfer", "whole", {"whole", "layerwise"},
             "whole: a prefilled round's KV moves once its prefill ends; layerwise: each layer's KV moves as soon "
             "as that layer is computed, overlapping the prefill"),
      choice("cluster.pd.later_rounds", "decode", {"decode", "prefill"},
             "where a later round of a session prefills its question: on the decode replica holding its KV, or on a "
             "prefill replica (the KV moves back, or is recomputed when scheduler.kv_offload.policy is recompute)"),
  };
}

std::vector<KeySpec> all_keys() {
  std::vector<KeySpec> keys{
      str("model.catalog", "yi-34b-200k", "model from platforms/models.yaml (`model: NAME` is short for this)"),
      str("model.hf_config", "", "path to a Hugging Face config.json, relative to the scenario file"),
      str("model.moe_upcycle", "dense",
          "the paper's MoE upcycling: EXPERTSxTOPK (e.g. 8x2) makes params x EXPERTS, params_active x TOPK; dense = "
          "as given"),
  };
  for (auto& k : model_keys("model", false)) {
    if (k.path != "model.description") keys.push_back(k);
  }
  keys.push_back(choice("model.compute_dtype", "auto", {"auto", "bf16", "fp16", "fp8", "int8", "fp4"},
                        "tensor-core dtype, which picks the GPU's peak FLOP/s (gpus.yaml flops_<dtype>). auto: fp8 "
                        "or fp4 weights compute in that dtype on a GPU that lists it (W8A8, as vLLM runs FP8), "
                        "fp16 weights in fp16, anything else in bf16; a dtype the GPU lacks is refused"));
  for (auto* group : {&compression_keys, &hardware_keys, &workload_keys, &scheduler_keys, &cluster_keys}) {
    for (auto& k : (*group)()) keys.push_back(std::move(k));
  }
  keys.push_back(quantity("slo.ttft", Dim::kTime, "30s", "time to first token a user accepts (Table 1, 'not too long')",
                          kDuration));
  // A reader manages ~6 tok/s; a million tokens a second per session is beyond any decoder.
  keys.push_back(
      quantity("slo.decode_rate", Dim::kTokenRate, "6tok/s", "generation faster than reading (Table 1)", {1e-3, 1e6}));
  keys.push_back(integer("seed", "1", "random seed; same scenario and seed give byte-identical outputs", kSeed));
  keys.push_back(quantity("output.timeline_period", Dim::kTime, "1s",
                          "sampling period of timeline.csv; duration / period at most 1e7 rows", kTimelinePeriod));
  keys.push_back(str("description", "", "what the scenario shows"));
  return keys;
}

}  // namespace

const Schema& scenario_schema() {
  static const Schema schema(all_keys());
  return schema;
}

}  // namespace kvsim
