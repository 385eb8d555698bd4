// The candidate deployments of `kvsim plan`: the GPU budget, and the grid of layouts, parallelism, splits,
// routers and offload policies over it.
#include "sim/cli/plan_space.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "sim/diagnostics.hpp"

namespace kvsim::cli {
namespace {

constexpr int kMaxGpus = 4096;

// The gpus.yaml entry `name` stands for: itself, or the one entry it is a prefix of up to a '-'.
std::string resolve_gpu(const std::string& name, const Catalog& catalog, std::string& error) {
  const std::vector<std::string> names = catalog.gpu_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return name;
  std::vector<std::string> hits;
  for (const auto& n : names) {
    if (n.size() > name.size() && n.compare(0, name.size(), name) == 0 && n[name.size()] == '-') hits.push_back(n);
  }
  if (hits.size() == 1) return hits[0];
  error = hits.empty() ? "unknown GPU '" + name + "'; expected one of " + join(names)
                       : "GPU '" + name + "' is ambiguous: it may be " + join(hits) + "; give the whole name";
  return "";
}

std::optional<int> whole_count(const std::string& text) {
  int v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string pool_text(const PoolChoice& p) {
  return fmt::format("{}x{}/tp{}", p.replicas, p.gpu, p.tensor_parallel);
}

void add_pool_sets(const std::string& name, const PoolChoice& p, std::vector<std::string>& sets) {
  const std::string k = "cluster.pools." + name + ".";
  sets.push_back(k + "role=" + p.role);
  sets.push_back(k + fmt::format("replicas={}", p.replicas));
  sets.push_back(k + "gpu=" + p.gpu);
  sets.push_back(k + fmt::format("tensor_parallel={}", p.tensor_parallel));
}

// The deployments without router and policy: one pool list each.
std::vector<std::vector<PoolChoice>> mixed_layouts(const PlanSpace& s) {
  std::vector<std::vector<PoolChoice>> out;
  for (const auto& b : s.budget) {
    for (int tp : s.tensor_parallel) {
      if (tp <= b.count) out.push_back({PoolChoice{"mixed", b.gpu, tp, b.count / tp}});
    }
  }
  return out;
}

// P/D splits of one type: p prefill replicas of tp_p GPUs, and as many decode replicas of tp_d as the rest holds.
void split_one_type(const GpuBudget& b, int tp_p, int tp_d, std::vector<std::vector<PoolChoice>>& out) {
  for (int p = 1; p * tp_p + tp_d <= b.count; ++p) {
    const int d = (b.count - p * tp_p) / tp_d;
    out.push_back({PoolChoice{"prefill", b.gpu, tp_p, p}, PoolChoice{"decode", b.gpu, tp_d, d}});
  }
}

std::vector<std::vector<PoolChoice>> pd_layouts(const PlanSpace& s) {
  std::vector<std::vector<PoolChoice>> out;
  for (const auto& bp : s.budget) {
    for (const auto& bd : s.budget) {
      for (int tp_p : s.tensor_parallel) {
        for (int tp_d : s.tensor_parallel) {
          if (s.pd_same_tp && tp_p != tp_d) continue;
          if (bp.gpu == bd.gpu) {
            split_one_type(bp, tp_p, tp_d, out);
          } else if (tp_p <= bp.count && tp_d <= bd.count) {
            out.push_back({PoolChoice{"prefill", bp.gpu, tp_p, bp.count / tp_p},
                           PoolChoice{"decode", bd.gpu, tp_d, bd.count / tp_d}});
          }
        }
      }
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> split_flag_list(const std::string& flag, const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const auto end = text.find(',', start);
    const std::string item = trim(text.substr(start, end == std::string::npos ? end : end - start));
    if (item.empty()) {
      throw InputError({Diagnostic{"", flag, 0, 0, text, "expected a comma-separated list without empty items"}});
    }
    out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::vector<GpuBudget> parse_gpu_budget(const std::string& text, const Catalog& catalog) {
  std::vector<GpuBudget> out;
  Diagnostics diag;
  for (const auto& item : split_flag_list("--gpus", text)) {
    const auto colon = item.find(':');
    const std::optional<int> n = colon == std::string::npos ? std::nullopt : whole_count(item.substr(colon + 1));
    std::string error;
    const std::string gpu = colon == std::string::npos ? "" : resolve_gpu(item.substr(0, colon), catalog, error);
    if (colon == std::string::npos) {
      diag.add({"", "--gpus", 0, 0, item, "expected TYPE:N, e.g. a100-sxm-80g:8 (a GPU of platforms/gpus.yaml)"});
    } else if (gpu.empty()) {
      diag.add({"", "--gpus", 0, 0, item, error});
    } else if (!n || *n < 1 || *n > kMaxGpus) {
      diag.add({"", "--gpus", 0, 0, item, fmt::format("expected a whole GPU count in [1, {}] after ':'", kMaxGpus)});
    } else if (std::any_of(out.begin(), out.end(), [&](const GpuBudget& b) { return b.gpu == gpu; })) {
      diag.add({"", "--gpus", 0, 0, item, gpu + " is given twice; give each GPU type once"});
    } else {
      out.push_back(GpuBudget{gpu, *n});
    }
  }
  diag.throw_if_any();
  return out;
}

int Candidate::gpus() const {
  int n = 0;
  for (const auto& p : pools) n += p.gpus();
  return n;
}

std::string Candidate::layout() const {
  return disaggregated() ? "pd" : "mixed";
}

std::string Candidate::pools_text() const {
  std::string out;
  for (const auto& p : pools) out += (out.empty() ? "" : "+") + pool_text(p);
  return out;
}

std::string Candidate::label() const {
  std::string out = layout();
  for (const auto& p : pools) {
    out += fmt::format("{} {} x {} tp{}", p.role == "decode" ? " :" : "", p.replicas, p.gpu, p.tensor_parallel);
  }
  return out + ", " + router + ", " + policy;
}

std::vector<Candidate> plan_candidates(const PlanSpace& space) {
  std::vector<std::vector<PoolChoice>> layouts;
  if (space.mixed) layouts = mixed_layouts(space);
  if (space.disaggregated) {
    for (auto& l : pd_layouts(space)) layouts.push_back(std::move(l));
  }
  std::vector<Candidate> out;
  for (const auto& pools : layouts) {
    for (const auto& r : space.routers) {
      for (const auto& p : space.policies) out.push_back(Candidate{out.size(), pools, r, p});
    }
  }
  return out;
}

CandidateEdits candidate_edits(const Candidate& c, const std::string& base_gpu) {
  CandidateEdits e;
  e.removes.push_back("cluster.pools");
  if (c.disaggregated()) {
    e.removes.push_back("hardware.count");
    add_pool_sets("prefill", c.pools[0], e.sets);
    add_pool_sets("decode", c.pools[1], e.sets);
  } else {
    const PoolChoice& p = c.pools[0];
    if (p.gpu != base_gpu) e.sets.push_back("hardware.gpu=" + p.gpu);
    e.sets.push_back(fmt::format("hardware.tensor_parallel={}", p.tensor_parallel));
    e.sets.push_back(fmt::format("hardware.count={}", p.gpus()));
  }
  e.sets.push_back("router.type=" + c.router);
  e.sets.push_back("scheduler.kv_offload.policy=" + c.policy);
  return e;
}

}  // namespace kvsim::cli
