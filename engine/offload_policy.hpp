#pragma once
/// @file offload_policy.hpp
/// @brief KV offload policies and victim selection. A policy decides; it never touches the platform.
/// Adding a policy: one file in engine/policies/, one line in engine/policies/registry.cpp, one test.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/registry.hpp"

namespace kvsim {

using SessionId = std::uint32_t;

/// @brief What happens to an evicted session's KV.
enum class EvictAction {
  kSwapOut,  ///< copy it to CPU DDR over the host link; swap it back in when the next round arrives
  kDrop,     ///< free it; the next round re-prefills the whole context
};

/// @brief What a policy knows about one eviction candidate.
struct VictimInfo {
  SessionId session = 0;
  double kv_bytes = 0;
  double tokens = 0;
  double last_used_s = 0;        ///< when its last round finished
  double expected_return_s = 0;  ///< when its next round is expected (last use + mean think time)
};

/// @brief The replica's state as a policy sees it when it decides.
struct PolicyContext {
  double now_s = 0;
  double ddr_free_bytes = 0;
  double host_link_bandwidth = 0;  ///< bytes/s per direction for one session's KV, alone on the link
  int transfers_in_flight = 0;     ///< KV transfers of this replica now on the host link (both directions)
  double recompute_s = 0;          ///< seconds to prefill the victim's context again, alone on the replica
  int active_rounds = 0;           ///< rounds running or waiting on the replica, who would share the GPU
};

/// @brief Decides what leaves HBM and how.
class OffloadPolicy {
 public:
  virtual ~OffloadPolicy() = default;
  /// @brief The registry name.
  virtual std::string_view name() const = 0;
  /// @brief HBM is short and `victim` was chosen: swap its KV out or drop it.
  virtual EvictAction on_evict(const VictimInfo& victim, const PolicyContext& ctx) const = 0;
  /// @brief Start moving a session's KV to DDR as soon as its round ends, so HBM is free during think time.
  virtual bool offload_when_idle() const { return false; }
  /// @brief When to start bringing an offloaded idle session's KV back before its next round; negative: never.
  virtual double prefetch_at_s(const VictimInfo&, const PolicyContext&) const { return -1; }
  /// @brief Load a returning session's KV during its first prefill step, layer by layer, instead of before it.
  virtual bool layerwise() const { return false; }
  /// @brief When DDR is full, spill KV to the NVMe tier and demote DDR's least recently used KV there.
  virtual bool tiered() const { return false; }
};

/// @brief Orders eviction candidates, best victim first.
class VictimPolicy {
 public:
  virtual ~VictimPolicy() = default;
  virtual std::string_view name() const = 0;
  /// @brief Sorts `candidates` so that the first one should leave HBM first. Ties break by session id.
  virtual void order(std::vector<VictimInfo>& candidates) const = 0;
};

/// @brief What a policy may know of the workload when it is made.
struct PolicyEnv {
  /// Seconds of think time at probability q (the workload's think-time distribution, or a trace's gaps between
  /// rounds); null when the workload has no think time.
  std::function<double(double)> think_quantile;
};

/// @brief Offload policies by name (engine/policies/registry.cpp); parameters under `scheduler.kv_offload`.
using OffloadRegistry = Registry<OffloadPolicy, const PolicyEnv&>;
const OffloadRegistry& offload_policies();
/// @brief Victim orders by name; the key is `scheduler.kv_offload.victim`.
using VictimRegistry = Registry<VictimPolicy>;
const VictimRegistry& victim_policies();

/// @brief The names of the registered offload policies.
std::vector<std::string> offload_policy_names();
/// @brief Makes a registered policy with its default parameters; throws UnknownChoice listing the valid names.
std::unique_ptr<OffloadPolicy> make_offload_policy(const std::string& name, const PolicyEnv& env = {});
/// @brief The names of the registered victim policies.
std::vector<std::string> victim_policy_names();
/// @brief Makes a victim policy; throws UnknownChoice listing the valid names if unknown.
std::unique_ptr<VictimPolicy> make_victim_policy(const std::string& name);

}  // namespace kvsim
