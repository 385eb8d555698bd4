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

}  // namespace

std::unique_ptr<VictimPolicy> make_lru_victims() {
  return std::make_unique<SortedVictims>("lru", [](auto& a, auto& b) { return a.last_used_s < b.last_used_s; });
}
std::unique_ptr<VictimPolicy> make_longest_idle_victims() {
  return std::make_unique<SortedVictims>("longest-idle",
                                         [](auto& a, auto& b) { return a.expected_return_s > b.expected_return_s; });
}
std::unique_ptr<VictimPolicy> make_largest_victims() {
  return std::make_unique<SortedVictims>("largest", [](auto& a, auto& b) { return a.kv_bytes > b.kv_bytes; });
}
std::unique_ptr<VictimPolicy> make_smallest_victims() {
  return std::make_unique<SortedVictims>("smallest", [](auto& a, auto& b) { return a.kv_bytes < b.kv_bytes; });
}

}  // namespace kvsim
