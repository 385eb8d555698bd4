#include "sim/clients.hpp"

#include "sim/replica_actor.hpp"

namespace kvsim {
namespace sg4 = simgrid::s4u;

ClientSide::ClientSide(const WorkloadSpec& spec, std::uint64_t seed, std::vector<ReplicaScheduler*> replicas,
                       std::vector<sg4::Host*> hosts, RunMetrics& metrics, double think_guess_s)
    : spec_(spec),
      seed_(seed),
      factory_(spec, seed),
      replicas_(std::move(replicas)),
      hosts_(std::move(hosts)),
      metrics_(metrics),
      assigned_(replicas_.size(), 0),
      think_guess_s_(think_guess_s) {}

// Least-loaded routing: the replica with the fewest live sessions (ties to the lowest index). A session stays on
// its replica, where its KV lives.
int ClientSide::pick_replica() const {
  int best = 0;
  for (int r = 1; r < static_cast<int>(assigned_.size()); ++r) {
    if (assigned_[static_cast<std::size_t>(r)] < assigned_[static_cast<std::size_t>(best)]) best = r;
  }
  return best;
}

// One session: its rounds one after the other, each sent to the session's replica, with think time between.
void ClientSide::run_session(std::uint64_t key) {
  const SessionPlan plan = factory_.make(key);
  const SessionId id = next_id_++;
  const int replica = pick_replica();
  ++assigned_[static_cast<std::size_t>(replica)];
  metrics_.on_session_start(id, replica, sg4::Engine::get_clock());
  sg4::this_actor::set_host(hosts_[static_cast<std::size_t>(replica)]);  // messages to a replica stay on its host
  sg4::Mailbox* mailbox = sg4::Mailbox::by_name(replica_mailbox(replica));
  auto done = sg4::Semaphore::create(0);
  const double mean_think = spec_.think_time.expected();
  for (std::size_t i = 0; i < plan.rounds.size(); ++i) {
    const RoundPlan& r = plan.rounds[i];
    const bool last = i + 1 == plan.rounds.size();
    const RoundRequest req{id, static_cast<int>(i), r.prompt_tokens, r.answer_tokens, last, mean_think, think_guess_s_};
    ReplicaMessage msg{false, req, done.get()};
    mailbox->put(&msg, 0);
    done->acquire();
    if (!last) sg4::this_actor::sleep_for(r.think_after_s);
  }
  --assigned_[static_cast<std::size_t>(replica)];
}

void ClientSide::open_loop() {
  ArrivalProcess arrivals(spec_, seed_);
  std::uint64_t key = 0;
  for (double t = arrivals.next(); t >= 0; t = arrivals.next()) {
    sg4::this_actor::sleep_until(t);
    const std::uint64_t k = key++;
    ++live_;
    sg4::Actor::create("session", sg4::this_actor::get_host(), [this, k] {
      run_session(k);
      std::unique_lock lock(*mutex_);
      --live_;
      all_done_->notify_all();
    });
  }
  std::unique_lock lock(*mutex_);
  --generators_;
  all_done_->notify_all();
}

void ClientSide::closed_user(long user) {
  sg4::this_actor::sleep_for(spec_.arrival.ramp_up * double(user) / double(spec_.arrival.users));
  for (std::uint64_t n = 0; sg4::Engine::get_clock() < spec_.duration; ++n) {
    if (spec_.max_sessions > 0 && next_id_ >= static_cast<std::uint64_t>(spec_.max_sessions)) break;
    run_session((std::uint64_t(user) << 32) | n);
  }
  std::unique_lock lock(*mutex_);
  --generators_;
  all_done_->notify_all();
}

void ClientSide::coordinator() {
  {
    std::unique_lock lock(*mutex_);
    while (generators_ > 0 || live_ > 0) all_done_->wait(lock);
  }
  for (std::size_t r = 0; r < replicas_.size(); ++r) {
    static ReplicaMessage shutdown{true, {}, nullptr};
    sg4::this_actor::set_host(hosts_[r]);
    sg4::Mailbox::by_name(replica_mailbox(static_cast<int>(r)))->put(&shutdown, 0);
  }
}

void ClientSide::start() {
  sg4::Host* host = hosts_.front();
  mutex_ = sg4::Mutex::create();
  all_done_ = sg4::ConditionVariable::create();
  if (spec_.arrival.type == "closed") {
    generators_ = spec_.arrival.users;
    for (long u = 0; u < spec_.arrival.users; ++u) sg4::Actor::create("user", host, [this, u] { closed_user(u); });
  } else {
    generators_ = 1;
    sg4::Actor::create("arrivals", host, [this] { open_loop(); });
  }
  sg4::Actor::create("coordinator", host, [this] { coordinator(); });
}

}  // namespace kvsim
