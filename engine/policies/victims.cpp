// Victim selection, shared by every offload policy: which idle session's KV leaves HBM first.
#include <algorithm>
#include <functional>

#include "engine/policies/policies.hpp"

namespace kvsim {
namespace {

using Less = std::function<bool(const VictimInfo&, const VictimInfo&)>;

class SortedVictims final : public VictimPolicy {
 public:
  SortedVictims(std::string_view name, Less less) : name_(name), less_(std::move(less)) {}
  std::string_view name() const override { return name_; }
  void order(std::vector<VictimInfo>& c) const override {
    std::stable_sort(c.begin(), c.end(), [&](const VictimInfo& a, const VictimInfo& b) {
      if (less_(a, b)) return true;
      if (less_(b, a)) return false;
      return a.session < b.session;
    });
  }

 private:
  std::string_view name_;
  Less less_;
};

VictimRegistry::Entry victims(std::string_view name, std::string description, Less less) {
  return {std::string(name), std::move(description), {}, [name, less](const Params&) {
            return std::make_unique<SortedVictims>(name, less);
          }};
}

}  // namespace

VictimRegistry::Entry lru_victims() {
  return victims("lru", "least recently used first", [](auto& a, auto& b) { return a.last_used_s < b.last_used_s; });
}
VictimRegistry::Entry longest_idle_victims() {
  return victims("longest-idle", "the session expected back last first",
                 [](auto& a, auto& b) { return a.expected_return_s > b.expected_return_s; });
}
VictimRegistry::Entry largest_victims() {
  return victims("largest", "the largest KV first", [](auto& a, auto& b) { return a.kv_bytes > b.kv_bytes; });
}
VictimRegistry::Entry smallest_victims() {
  return victims("smallest", "the smallest KV first", [](auto& a, auto& b) { return a.kv_bytes < b.kv_bytes; });
}

}  // namespace kvsim
