#include "sim/activities.hpp"

#include <stdexcept>

namespace kvsim {
namespace sg4 = simgrid::s4u;

StepLauncher::StepLauncher(const ReplicaHosts& hosts) : gpus_(hosts.gpus.size()), hosts_(hosts.gpus) {
  hosts_.insert(hosts_.end(), hosts.hbms.begin(), hosts.hbms.end());
  hosts_.push_back(hosts.cpu);
  flops_.assign(hosts_.size(), 0.0);
  bytes_.assign(hosts_.size() * hosts_.size(), 0.0);
}

sg4::ExecPtr StepLauncher::start(const StepCost& c, double load_bytes) {
  const std::size_t n = gpus_;
  const std::size_t w = 2 * n + 1;  // GPUs, HBM endpoints, CPU
  for (std::size_t g = 0; g < n; ++g) {
    flops_[g] = c.compute_s;
    bytes_[g * w + n + g] = c.hbm_s;
    if (n > 1) bytes_[g * w + (g + 1) % n] = c.nvlink_s;
    bytes_[2 * n * w + n + g] = load_bytes / double(n);
  }
  auto exec = sg4::this_actor::exec_init(hosts_, flops_, bytes_);
  exec->start();
  return exec;
}

namespace {
sg4::ExecPtr start_between(const ReplicaHosts& hosts, sg4::Host* host_side, bool to_host, double bytes) {
  const std::size_t n = hosts.hbms.size();
  std::vector<sg4::Host*> list = hosts.hbms;
  list.push_back(host_side);
  std::vector<double> flops(n + 1, 0.0);
  std::vector<double> matrix((n + 1) * (n + 1), 0.0);
  for (std::size_t g = 0; g < n; ++g) matrix[to_host ? g * (n + 1) + n : n * (n + 1) + g] = bytes / double(n);
  auto exec = sg4::this_actor::exec_init(list, flops, matrix);
  exec->start();
  return exec;
}

}  // namespace

sg4::ExecPtr start_transfer(const ReplicaHosts& hosts, bool to_host, double bytes) {
  return start_between(hosts, hosts.cpu, to_host, bytes);
}

sg4::ExecPtr start_transfer(const ReplicaHosts& hosts, const TransferOrder& order,
                            const std::vector<ReplicaHosts>* all) {
  if (!order.local()) {
    if (!all || order.to.replica != KvPlace::kThisReplica || order.from.replica < 0) {
      throw std::logic_error("a KV move between replicas must be a pull from another replica into this one's HBM");
    }
    const ReplicaHosts& src = all->at(static_cast<std::size_t>(order.from.replica));
    sg4::Host* hub = src.node == hosts.node ? hosts.node_hub : hosts.fabric;
    sg4::Host* from = order.from.tier == Tier::kHbm ? src.net : src.cpu;
    auto exec = sg4::this_actor::exec_init(std::vector<sg4::Host*>{from, hub, hosts.net}, std::vector<double>{0, 0, 0},
                                           std::vector<double>{0, order.bytes, 0, 0, 0, order.bytes, 0, 0, 0});
    exec->start();
    return exec;
  }
  if (order.demotion()) {
    auto exec = sg4::this_actor::exec_init(std::vector<sg4::Host*>{hosts.cpu, hosts.nvme}, std::vector<double>{0, 0},
                                           std::vector<double>{0, order.bytes, 0, 0});
    exec->start();
    return exec;
  }
  return start_between(hosts, order.host_tier() == Tier::kNvme ? hosts.nvme : hosts.cpu, order.to_host(), order.bytes);
}

}  // namespace kvsim
