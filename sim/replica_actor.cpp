#include "sim/replica_actor.hpp"

#include <fmt/format.h>

#include <cmath>

#include "engine/log.hpp"

namespace kvsim {
namespace sg4 = simgrid::s4u;

std::string replica_mailbox(int r) {
  return fmt::format("replica{}", r);
}

namespace {
void send(int r, ReplicaMessage* msg) {
  sg4::Mailbox::by_name(replica_mailbox(r))->put_init(msg, 0)->detach();
}
}  // namespace

void send_release(int r, SessionId s) {
  auto* msg = new ReplicaMessage{};
  msg->release = true;
  msg->round.session = s;
  send(r, msg);
}

void send_wake(int r) {
  auto* msg = new ReplicaMessage{};
  msg->wake = true;
  send(r, msg);
}

ReplicaActor::ReplicaActor(int index, ReplicaHosts hosts, Scheduler& scheduler, std::vector<double> split_times,
                           RunWatchdog* watchdog, const std::vector<ReplicaHosts>* all)
    : index_(index),
      hosts_(std::move(hosts)),
      scheduler_(scheduler),
      steps_(hosts_),
      split_times_(std::move(split_times)),
      watchdog_(watchdog),
      all_(all) {}

// When to wake without an event: a prefetch the scheduler asked for, or, during a fast-forwarded stretch, the next
// end of the metrics window.
double ReplicaActor::next_timeout(double now) const {
  double at = wake_at_;
  if (step_ && scheduler_.steps_in_flight() > 1) {
    for (double t : split_times_) {
      if (t > now) at = std::min(at, t);
    }
  }
  return at - now;
}

// Something happened during a stretch: the scheduler credits the steps done, and the step in progress continues
// alone as the activity in flight; the event is then handled at its end, the next step boundary.
void ReplicaActor::split_stretch(double now) {
  const double done = 1 - step_->get_remaining_ratio();
  const StepCost rest = scheduler_.split_stretch(done, now);
  step_->cancel();
  step_ = steps_.start(rest);
}

void ReplicaActor::start_plan(double now, bool gpu_free) {
  const Plan& plan = scheduler_.schedule(now, gpu_free);
  static spdlog::logger& logger = log("replica");
  for (const auto& t : plan.transfers) {
    logger.debug("t={:.6f} replica {} starts transfer {} of session {}: {:.0f} B {}", now, index_, t.id, t.session,
                 t.bytes, t.to_host() ? "to the host" : "to HBM");
    if (watchdog_) watchdog_->on_event(now);
    transfers_.push_back(Transfer{start_transfer(hosts_, t, all_), t.id, t.local() ? -1 : t.from.replica, t.session});
  }
  if (plan.has_step && watchdog_) watchdog_->on_event(now);
  if (plan.has_step) {
    step_ = all_ ? steps_.start(plan.cost, plan.load_bytes, plan.streams, hosts_, *all_)
                 : steps_.start(plan.cost, plan.load_bytes);
  }
  wake_at_ = plan.wake_at_s;
}

void ReplicaActor::on_message(ReplicaMessage* msg, double now) {
  if (msg->shutdown) {
    shutdown_ = true;
    return;
  }
  if (msg->flush) {
    holding_ = false;
    return;
  }
  if (msg->release || msg->wake) {
    if (msg->release) scheduler_.release(msg->round.session, now);
    delete msg;
    return;
  }
  holding_ = holding_ || msg->hold;
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
    if (watchdog_) watchdog_->check_stop();
    start_plan(sg4::Engine::get_clock(), !step_ && !holding_);
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
      activities_.push_back(transfers_[i].exec);
      tags_.emplace_back(Tag::kTransfer, i);
    }
    if (activities_.empty()) break;  // shut down with work that can never run: reported as unfinished sessions
    // A prefetch due before anything else happens: wake up then and plan again.
    const double timeout = next_timeout(sg4::Engine::get_clock());
    const ssize_t done = std::isfinite(timeout) ? sg4::Activity::wait_any_for(activities_, std::max(0.0, timeout))
                                                : sg4::Activity::wait_any(activities_);
    const double now = sg4::Engine::get_clock();
    const bool step_ended = done >= 0 && tags_[static_cast<std::size_t>(done)].first == Tag::kStep;
    if (step_ && !step_ended && scheduler_.steps_in_flight() > 1) split_stretch(now);
    if (done < 0) continue;
    const auto [tag, i] = tags_[static_cast<std::size_t>(done)];
    if (tag == Tag::kInbox) {
      on_message(msg, now);
      while (!shutdown_ && inbox->listen()) on_message(inbox->get<ReplicaMessage>(), now);  // same-instant arrivals
      receive = shutdown_ ? nullptr : inbox->get_async<ReplicaMessage>(&msg);
    } else if (tag == Tag::kStep) {
      on_step_done(now);
    } else {
      const Transfer t = transfers_[i];
      transfers_.erase(transfers_.begin() + static_cast<std::ptrdiff_t>(i));
      scheduler_.on_transfer_done(t.id, now);
      if (t.source >= 0) send_release(t.source, t.session);  // its source may let go of it now
    }
  }
}

}  // namespace kvsim
