#include "sim/platform.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <fstream>

namespace kvsim {
namespace sg4 = simgrid::s4u;

namespace {

void route(sg4::NetZone* zone, sg4::Host* src, sg4::Host* dst, const std::vector<sg4::Link*>& links, bool both) {
  std::vector<sg4::LinkInRoute> in_route;
  for (auto* l : links) in_route.emplace_back(l);
  zone->add_route(src->get_netpoint(), dst->get_netpoint(), nullptr, nullptr, in_route, both);
}

sg4::Link* link(sg4::NetZone* zone, const std::string& name, double bandwidth) {
  return zone->create_link(name, bandwidth)->set_latency(0)->seal();
}

// The NVMe tier hangs off the CPU: its own read and write links, and paths to each HBM endpoint through the host
// link, so a swap-in from NVMe pays the slower of the two and shares both.
void add_nvme(sg4::NetZone* zone, const Deployment& d, int r, ReplicaHosts& h, const std::vector<sg4::Link*>& h2d,
              const std::vector<sg4::Link*>& d2h) {
  h.nvme = zone->create_host(fmt::format("nvme{}", r), 1.0)->seal();
  auto* read = link(zone, fmt::format("r{}.nvme_read", r), d.nvme_bandwidth);
  auto* write = link(zone, fmt::format("r{}.nvme_write", r), d.nvme_bandwidth);
  route(zone, h.cpu, h.nvme, {write}, false);
  route(zone, h.nvme, h.cpu, {read}, false);
  for (std::size_t g = 0; g < h.hbms.size(); ++g) {
    const std::size_t l = d.host_link_shared ? 0 : g;
    route(zone, h.nvme, h.hbms[g], {read, h2d[l]}, false);
    route(zone, h.hbms[g], h.nvme, {d2h[l], write}, false);
  }
}

// GPU compute, HBM and NVLink run a step model's demand, given in seconds at the resource's effective speed
// (engine/cost/step_model.hpp): each serves one second of demand per second, and SimGrid shares it between
// whatever runs on it at once.
constexpr double kSecondsPerSecond = 1.0;

ReplicaHosts build_replica(sg4::NetZone* zone, const Deployment& d, int r) {
  ReplicaHosts h;
  const int n = d.tensor_parallel;
  h.cpu = zone->create_host(fmt::format("cpu{}", r), 1.0)->seal();
  std::vector<sg4::Link*> h2d, d2h, nvlink;
  const double host_bw = d.host_link_bandwidth();
  const int host_links = d.host_link_shared ? 1 : n;
  for (int i = 0; i < host_links; ++i) {
    h2d.push_back(link(zone, fmt::format("r{}.h2d{}", r, i), host_bw));
    d2h.push_back(link(zone, fmt::format("r{}.d2h{}", r, i), host_bw));
  }
  for (int g = 0; g < n; ++g) {
    h.gpus.push_back(zone->create_host(fmt::format("r{}.gpu{}", r, g), kSecondsPerSecond)->seal());
    h.hbms.push_back(zone->create_host(fmt::format("r{}.hbm{}", r, g), 1.0)->seal());
    auto* hbm = link(zone, fmt::format("r{}.hbm_link{}", r, g), kSecondsPerSecond);
    route(zone, h.gpus[g], h.hbms[g], {hbm}, true);
    const int l = d.host_link_shared ? 0 : g;
    route(zone, h.cpu, h.hbms[g], {h2d[static_cast<std::size_t>(l)]}, false);
    route(zone, h.hbms[g], h.cpu, {d2h[static_cast<std::size_t>(l)]}, false);
    // One link per GPU port carrying both directions, so it gets twice the per-direction capacity: in a ring
    // all-reduce each port sends and receives at the per-direction rate at once.
    if (n > 1) nvlink.push_back(link(zone, fmt::format("r{}.nvlink{}", r, g), 2 * kSecondsPerSecond));
  }
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) route(zone, h.gpus[a], h.gpus[b], {nvlink[a], nvlink[b]}, true);
  }
  if (d.nvme_capacity > 0) add_nvme(zone, d, r, h, h2d, d2h);
  return h;
}

}  // namespace

// Each session is an actor, and a SimGrid actor's stack is one allocation: with glibc's default mmap threshold
// (128 KiB) every session maps and unmaps its own, which cost more than the simulation itself on a run of 10,000
// requests. Stacks of 512 KiB (the default is 8 MiB) kept in the heap are reused instead.
//
// SimGrid also puts a guard page below each stack with mprotect, which splits the heap's mapping: about two memory
// maps per live actor, and a process may hold vm.max_map_count of them (65530 by default), so about 32,700 live
// actors aborted with "Failed to protect stack". A run that may have more actors than the maps allow goes without
// guard pages. Its stacks cannot overflow silently in practice: every scenario under scenarios/ runs with 32 KiB
// stacks and guard pages on, so 512 KiB leaves 16 times the deepest stack kvsim's actors reach.
void configure_engine(sg4::Engine& engine, double max_actors) {
  engine.set_config("host/model:ptask_L07");
#if defined(__SANITIZE_ADDRESS__)
  engine.set_config("contexts/stack-size:8192");  // AddressSanitizer's frames are several times larger
#else
  engine.set_config("contexts/stack-size:512");
#endif
  if (!guard_pages_fit(max_actors)) engine.set_config("contexts/guard-size:0");
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

bool guard_pages_fit(double actors) {
  constexpr double kMapsPerActor = 2, kMapsReserved = 5000;  // libraries, SimGrid and the heap's own maps
  double max_maps = 65530;
  std::ifstream("/proc/sys/vm/max_map_count") >> max_maps;
  return kMapsPerActor * actors + kMapsReserved <= max_maps;
}

namespace {

sg4::Link* host_link(int r, const char* direction) {
  return sg4::Engine::get_instance()->link_by_name(fmt::format("r{}.{}0", r, direction));
}

// Within a node: each replica's NVLink ports, both directions, at its GPUs' NVLink bandwidth; without NVLink, its
// host links (PCIe peer to peer through the CPU).
void connect_in_node(sg4::NetZone* zone, const Deployment& d, int r, ReplicaHosts& h) {
  const double nvlink = d.gpu.nvlink.bandwidth * d.tensor_parallel;
  if (nvlink > 0) {
    auto* out = link(zone, fmt::format("r{}.nvl_out", r), nvlink);
    auto* in = link(zone, fmt::format("r{}.nvl_in", r), nvlink);
    route(zone, h.net, h.node_hub, {out}, false);
    route(zone, h.node_hub, h.net, {in}, false);
    route(zone, h.cpu, h.node_hub, {host_link(r, "h2d"), out}, false);
    return;
  }
  route(zone, h.net, h.node_hub, {host_link(r, "d2h")}, false);
  route(zone, h.node_hub, h.net, {host_link(r, "h2d")}, false);
  route(zone, h.cpu, h.node_hub, {host_link(r, "h2d")}, false);  // DDR to another GPU: out of the root complex
}

// Between nodes: the node's NIC, one link per direction; the latency is paid once, on the sending side.
void connect_to_fabric(sg4::NetZone* zone, const Network& net, std::vector<std::pair<sg4::Link*, sg4::Link*>>& nics,
                       int r, ReplicaHosts& h) {
  const auto n = static_cast<std::size_t>(h.node);
  if (nics.size() <= n) nics.resize(n + 1, {nullptr, nullptr});
  if (!nics[n].first) {
    nics[n].first =
        zone->create_link(fmt::format("node{}.nic_tx", n), net.bandwidth)->set_latency(net.latency_s)->seal();
    nics[n].second = link(zone, fmt::format("node{}.nic_rx", n), net.bandwidth);
  }
  route(zone, h.net, h.fabric, {nics[n].first}, false);
  route(zone, h.fabric, h.net, {nics[n].second}, false);
  route(zone, h.cpu, h.fabric, {host_link(r, "h2d"), nics[n].first}, false);
}

}  // namespace

std::vector<ReplicaHosts> build_platform(const Topology& t) {
  auto* zone = sg4::create_full_zone("kvsim");
  std::vector<ReplicaHosts> out;
  for (const Pool& p : t.pools) {
    for (int i = 0; i < p.replicas; ++i) out.push_back(build_replica(zone, p.deployment, static_cast<int>(out.size())));
  }
  if (out.size() > 1) {
    auto* fabric = zone->create_host("fabric", 1.0)->seal();
    std::vector<sg4::Host*> hubs;
    std::vector<std::pair<sg4::Link*, sg4::Link*>> nics;
    for (std::size_t r = 0; r < out.size(); ++r) {
      ReplicaHosts& h = out[r];
      h.node = t.node_of(static_cast<int>(r));
      while (hubs.size() <= static_cast<std::size_t>(h.node)) {
        hubs.push_back(zone->create_host(fmt::format("node{}.hub", hubs.size()), 1.0)->seal());
      }
      h.net = zone->create_host(fmt::format("r{}.net", r), 1.0)->seal();
      h.node_hub = hubs[static_cast<std::size_t>(h.node)];
      h.fabric = fabric;
      connect_in_node(zone, t.pool_of(static_cast<int>(r)).deployment, static_cast<int>(r), h);
      connect_to_fabric(zone, t.network, nics, static_cast<int>(r), h);
    }
  }
  zone->seal();
  return out;
}

std::vector<ReplicaHosts> build_platform(const Deployment& d, int replicas) {
  return build_platform(Topology::single(d, replicas));
}

}  // namespace kvsim
