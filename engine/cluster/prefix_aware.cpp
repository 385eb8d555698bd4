// `prefix-aware`: the candidate holding the longest cached prefix of the round's prompt, among those not much busier
// than the least busy, as llm-d's precise prefix-cache scorer and Mooncake's conductor route. The router keeps its
// own index of which replica was sent which prompt block hashes (from its own decisions, bounded, least recently
// used first out); it never asks the replicas what their caches still hold.
#include <algorithm>
#include <list>
#include <unordered_map>

#include "engine/cluster/routers.hpp"

namespace kvsim {
namespace {

/// @brief (block hash, replica) pairs, most recently sent first, at most `capacity` of them.
class PrefixIndex {
 public:
  explicit PrefixIndex(std::size_t capacity) : capacity_(capacity) {}
  bool contains(std::uint64_t hash, int replica) const { return where_.count(Key{hash, replica}) > 0; }
  /// @brief Records that `replica` was sent block `hash` now, evicting the least recently sent pair if full.
  void touch(std::uint64_t hash, int replica) {
    const Key key{hash, replica};
    if (const auto it = where_.find(key); it != where_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.push_front(key);
    where_.emplace(key, order_.begin());
    if (order_.size() > capacity_) {
      where_.erase(order_.back());
      order_.pop_back();
    }
  }

 private:
  struct Key {
    std::uint64_t hash;
    int replica;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>{}(k.hash ^ (std::uint64_t(k.replica) * 0x9E3779B97F4A7C15ULL));
    }
  };
  std::size_t capacity_;
  std::list<Key> order_;
  std::unordered_map<Key, std::list<Key>::iterator, KeyHash> where_;  // looked up only, never iterated
};

/// @brief A candidate's load: the live sessions the frontend placed there (for a trace's one-round requests, the
/// requests in flight). The frontend's own count, not the scheduler's instantaneous occupancy, so the decision does
/// not depend on how steps are grouped (fast-forward on or off gives the same run).
long rounds_in_flight(const ReplicaLoad& r) {
  return r.sessions;
}

class PrefixAwareRouter final : public Router {
 public:
  PrefixAwareRouter(std::size_t index_blocks, double load_cap) : index_(index_blocks), load_cap_(load_cap) {}
  std::string_view name() const override { return "prefix-aware"; }

  std::size_t route(const RouteRequest& request, std::span<const ReplicaLoad> replicas) override {
    long least = rounds_in_flight(replicas[0]);
    for (const auto& r : replicas) least = std::min(least, rounds_in_flight(r));
    std::size_t best = replicas.size();
    std::int64_t best_score = -1;
    for (std::size_t i = 0; i < replicas.size(); ++i) {
      if (double(rounds_in_flight(replicas[i]) - least) > load_cap_) continue;
      const std::int64_t score = cached_prefix_tokens(request, replicas[i].replica);
      if (best == replicas.size() || score > best_score ||
          (score == best_score && lighter(replicas[i], replicas[best]))) {
        best = i;
        best_score = score;
      }
    }
    for (const std::uint64_t hash : request.prefix_blocks) index_.touch(hash, replicas[best].replica);
    return best;
  }

 private:
  /// @brief Tokens of the request's prompt prefix `replica` holds by the index: its leading blocks found there, or
  /// the session's own context if it lives there, whichever is longer.
  std::int64_t cached_prefix_tokens(const RouteRequest& request, int replica) const {
    std::int64_t blocks = 0;
    for (const std::uint64_t hash : request.prefix_blocks) {
      if (!index_.contains(hash, replica)) break;
      ++blocks;
    }
    const std::int64_t tokens = blocks * request.prefix_block_tokens;
    return replica == request.home ? std::max(tokens, request.context_tokens) : tokens;
  }
  /// @brief Tie-break between equal scores: fewer rounds in flight, then fewer live sessions (the lower index wins
  /// the rest, as candidates are visited in order).
  static bool lighter(const ReplicaLoad& a, const ReplicaLoad& b) { return rounds_in_flight(a) < rounds_in_flight(b); }

  PrefixIndex index_;
  double load_cap_;
};
}  // namespace

RouterRegistry::Entry prefix_aware_router() {
  return {"prefix-aware",
          "every round to the candidate with the longest cached prefix of its prompt blocks (by the router's own "
          "index of the blocks it sent where; the replica holding the session's KV counts its context), among "
          "those with at most router.load_cap more live sessions (requests in flight) than the least busy; ties "
          "to fewer live sessions, then the lowest index",
          {ParamSpec{.name = "index_blocks",
                     .dim = Dim::kCount,
                     .default_value = "100K",
                     .min = 1,
                     .max = 1e8,  // ~100 bytes an entry: 10 GB of index, far beyond any cluster's cached blocks
                     .description = "(block hash, replica) pairs the router remembers, least recently sent "
                                    "evicted first (100K blocks of 512 tokens cover 51M tokens of cached prefix)"},
           ParamSpec{.name = "load_cap",
                     .dim = Dim::kCount,
                     .default_value = "4",
                     .min = 0,
                     .max = 1e6,
                     .description = "a candidate is considered only if its rounds in flight (running + waiting) "
                                    "exceed the least busy candidate's by at most this"}},
          [](const Params& p) {
            return std::make_unique<PrefixAwareRouter>(std::size_t(p.number("index_blocks")), p.number("load_cap"));
          }};
}

}  // namespace kvsim
