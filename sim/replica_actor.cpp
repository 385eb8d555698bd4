#include "sim/replica_actor.hpp"

#include <fmt/format.h>

namespace kvsim {
namespace sg4 = simgrid::s4u;

std::string replica_mailbox(int r) { return fmt::format("replica{}", r); }

ReplicaActor::ReplicaActor(int index, ReplicaHosts hosts, ReplicaScheduler& scheduler)
    : index_(index), hosts_(std::move(hosts)), scheduler_(scheduler) {
  step_hosts_ = hosts_.gpus;
  step_hosts_.insert(step_hosts_.end(), hosts_.hbms.begin(), hosts_.hbms.end());
  const std::size_t n = step_hosts_.size();
  flops_.assign(n, 0.0);
  bytes_.assign(n * n, 0.0);
}

// One forward step: FLOPs on every GPU, HBM bytes from each GPU to its HBM endpoint, and the ring all-reduce
// from each GPU to the next over NVLink.
sg4::ExecPtr ReplicaActor::start_step(const StepCost& c) {
  const std::size_t n = hosts_.gpus.size();
  const std::size_t w = 2 * n;
  for (std::size_t g = 0; g < n; ++g) {
    flops_[g] = c.flops_per_gpu;
    bytes_[g * w + n + g] = c.hbm_bytes_per_gpu;
    if (n > 1) bytes_[g * w + (g + 1) % n] = c.nvlink_bytes_per_gpu;
  }
  auto exec = sg4::this_actor::exec_init(step_hosts_, flops_, bytes_);
  exec->start();
  return exec;
}

// A KV move: the session's KV is split evenly over the replica's GPUs and crosses the host link(s).
sg4::ExecPtr ReplicaActor::start_transfer(const TransferOrder& t) {
  const std::size_t n = hosts_.hbms.size();
  std::vector<sg4::Host*> hosts = hosts_.hbms;
  hosts.push_back(hosts_.cpu);
  std::vector<double> flops(n + 1, 0.0);
  std::vector<double> bytes((n + 1) * (n + 1), 0.0);
  for (std::size_t g = 0; g < n; ++g) {
    const std::size_t cell = t.to_host ? g * (n + 1) + n : n * (n + 1) + g;
    bytes[cell] = t.bytes / double(n);
  }
  auto exec = sg4::this_actor::exec_init(hosts, flops, bytes);
  exec->start();
  return exec;
}

void ReplicaActor::start_plan(double now, bool gpu_free) {
  const Plan& plan = scheduler_.schedule(now, gpu_free);
  for (const auto& t : plan.transfers) transfers_.emplace_back(start_transfer(t), t.id);
  if (plan.has_step) step_ = start_step(plan.cost);
}

void ReplicaActor::on_message(ReplicaMessage* msg, double now) {
  if (msg->shutdown) {
    shutdown_ = true;
    return;
  }
  waiters_[msg->round.session] = msg->done;
  scheduler_.on_round_arrival(msg->round, now);
}

void ReplicaActor::on_step_done(double now) {
  step_ = nullptr;
  for (const auto& f : scheduler_.on_step_done(now)) {
    auto it = waiters_.find(f.session);
    it->second->release();
    if (f.last) waiters_.erase(it);
  }
}

void ReplicaActor::operator()() {
  sg4::Mailbox* inbox = sg4::Mailbox::by_name(replica_mailbox(index_));
  ReplicaMessage* msg = nullptr;
  sg4::CommPtr receive = inbox->get_async<ReplicaMessage>(&msg);
  while (!(shutdown_ && scheduler_.idle() && !step_ && transfers_.empty())) {
    start_plan(sg4::Engine::get_clock(), !step_);
    activities_.clear();
    tags_.clear();
    if (receive) {
      activities_.push_back(receive);
      tags_.emplace_back(Tag::kInbox, 0);
    }
    if (step_) {
      activities_.push_back(step_);
      tags_.emplace_back(Tag::kStep, 0);
    }
    for (std::size_t i = 0; i < transfers_.size(); ++i) {
      activities_.push_back(transfers_[i].first);
      tags_.emplace_back(Tag::kTransfer, i);
    }
    if (activities_.empty()) break;  // shut down with work that can never run: reported as unfinished sessions
    const auto [tag, i] = tags_[static_cast<std::size_t>(sg4::Activity::wait_any(activities_))];
    const double now = sg4::Engine::get_clock();
    if (tag == Tag::kInbox) {
      on_message(msg, now);
      receive = shutdown_ ? nullptr : inbox->get_async<ReplicaMessage>(&msg);
    } else if (tag == Tag::kStep) {
      on_step_done(now);
    } else {
      const std::uint64_t id = transfers_[i].second;
      transfers_.erase(transfers_.begin() + static_cast<std::ptrdiff_t>(i));
      scheduler_.on_transfer_done(id, now);
    }
  }
}

}  // namespace kvsim
