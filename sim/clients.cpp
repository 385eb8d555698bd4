#include "sim/clients.hpp"

#include <algorithm>

#include "sim/replica_actor.hpp"
#include "workloads/trace_stats.hpp"

namespace kvsim {
namespace sg4 = simgrid::s4u;

ClientSide::ClientSide(const WorkloadSpec& spec, std::uint64_t seed, Frontend& frontend, std::vector<sg4::Host*> hosts,
                       RunMetrics& metrics)
    : spec_(spec),
      seed_(seed),
      factory_(spec, seed),
      frontend_(frontend),
      hosts_(std::move(hosts)),
      metrics_(metrics),
      trace_gap_s_(spec.trace.trace ? trace_stats(*spec.trace.trace).gap_s.mean / spec.trace.speedup : 0) {}

// Sends `req` to replica `r` and waits for its answer (a round, or one leg of it).
void ClientSide::exchange(int r, const RoundRequest& req, sg4::Semaphore* done) {
  sg4::this_actor::set_host(hosts_[static_cast<std::size_t>(r)]);  // messages to a replica stay on its host
  ReplicaMessage msg{false, req, done};
  sg4::Mailbox::by_name(replica_mailbox(r))->put(&msg, 0);
  done->acquire();
}

// The rest of a round whose first leg has run: its decode leg, under prefill/decode disaggregation.
void ClientSide::finish_round(SessionPlace& place, const RoundRequest& round, sg4::Semaphore* done) {
  if (frontend_.has_decode_leg(place)) {
    RoundRequest leg;
    const int d = frontend_.handoff(place, round, leg, sg4::Engine::get_clock());
    exchange(d, leg, done);
  }
  frontend_.round_done(place, round);
}

// One session: its rounds one after the other, each placed by the frontend, with think time between.
void ClientSide::run_session(std::uint64_t key) {
  const SessionPlan plan = factory_.make(key);
  SessionPlace place{next_id_++};
  auto done = sg4::Semaphore::create(0);
  const double mean_think = spec_.think_time.expected();
  for (std::size_t i = 0; i < plan.rounds.size(); ++i) {
    const RoundPlan& r = plan.rounds[i];
    const bool last = i + 1 == plan.rounds.size();
    const RoundRequest req{place.id, static_cast<int>(i), r.prompt_tokens, r.answer_tokens, last, mean_think};
    RoundRequest sent = req;
    const int replica = frontend_.place(place, sent, sg4::Engine::get_clock());
    if (i == 0) metrics_.on_session_start(place.id, replica, sg4::Engine::get_clock());
    exchange(replica, sent, done.get());
    finish_round(place, req, done.get());
    if (!last) sg4::this_actor::sleep_for(r.think_after_s);
  }
  frontend_.session_done(place);
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

void ClientSide::spawn(std::function<void()> body) {
  ++live_;
  sg4::Actor::create("session", sg4::this_actor::get_host(), [this, body = std::move(body)] {
    body();
    std::unique_lock lock(*mutex_);
    --live_;
    all_done_->notify_all();
  });
}

// Trace replay: rounds [first, first + count) of `ts` as one scheduler session on the trace session's replica.
// The first round is posted by the trace loop itself (post_first_round), so that every round recorded at one
// instant is in the replica's mailbox before the replica plans, whatever order SimGrid runs actors in. A later
// round with a recorded time is sent at that time (or when the previous answer is in, if later); the others a
// think time after the previous answer. Times are divided by the speedup.
std::shared_ptr<ClientSide::TraceSend> ClientSide::post_first_round(const TraceSession& ts, std::size_t first,
                                                                    std::size_t count) {
  const auto index = static_cast<std::size_t>(&ts - spec_.trace.trace->sessions.data());
  int& home = home_[index];
  auto send = std::make_shared<TraceSend>();
  send->place.id = next_id_++;
  send->place.hint = home;
  const TraceRound& r = ts.rounds[first];
  send->round = RoundRequest{send->place.id, 0, r.prompt_tokens, r.output_tokens, count == 1, trace_gap_s_, r.blocks};
  RoundRequest sent = send->round;
  send->replica = frontend_.place(send->place, sent, sg4::Engine::get_clock());
  home = send->replica;
  metrics_.on_session_start(send->place.id, send->replica, sg4::Engine::get_clock());
  send->done = sg4::Semaphore::create(0);
  send->msg = ReplicaMessage{false, sent, send->done.get(), true, false};
  sg4::Host* home_host = sg4::this_actor::get_host();
  sg4::this_actor::set_host(hosts_[static_cast<std::size_t>(send->replica)]);  // messages stay on the replica's host
  sg4::Mailbox::by_name(replica_mailbox(send->replica))->put_init(&send->msg, 0)->detach();
  sg4::this_actor::set_host(home_host);
  return send;
}

// Tells every replica in `touched` that the rounds of this instant are all posted, and clears `touched`.
void ClientSide::flush(std::vector<bool>& touched) {
  static ReplicaMessage message{false, {}, nullptr, false, true};
  sg4::Host* home_host = sg4::this_actor::get_host();
  for (std::size_t r = 0; r < touched.size(); ++r) {
    if (!touched[r]) continue;
    sg4::this_actor::set_host(hosts_[r]);
    sg4::Mailbox::by_name(replica_mailbox(static_cast<int>(r)))->put_init(&message, 0)->detach();
    touched[r] = false;
  }
  sg4::this_actor::set_host(home_host);
}

void ClientSide::trace_session(const TraceSession& ts, std::size_t first, std::size_t count,
                               std::shared_ptr<TraceSend> send) {
  const double speedup = spec_.trace.speedup;
  SessionPlace& place = send->place;
  send->done->acquire();
  finish_round(place, send->round, send->done.get());
  for (std::size_t i = 1; i < count; ++i) {
    const TraceRound& r = ts.rounds[first + i];
    if (r.arrival_s >= 0) sg4::this_actor::sleep_until(r.arrival_s / speedup);
    if (r.arrival_s < 0) sg4::this_actor::sleep_for(r.think_s / speedup);
    const RoundRequest req{place.id,       static_cast<int>(i), r.prompt_tokens, r.output_tokens,
                           i + 1 == count, trace_gap_s_,        r.blocks};
    RoundRequest sent = req;
    exchange(frontend_.place(place, sent, sg4::Engine::get_clock()), sent, send->done.get());
    finish_round(place, req, send->done.get());
  }
  frontend_.session_done(place);
}

// Starts the trace's sessions at their recorded times: a session that keeps its context as one scheduler session,
// each round of a stateless one as a session of its own, on the same replica.
void ClientSide::trace_loop() {
  const Trace& trace = *spec_.trace.trace;
  std::vector<std::pair<const TraceSession*, std::size_t>> starts;
  for (const TraceSession& ts : trace.sessions) {
    for (std::size_t i = 0; i < (ts.stateless ? ts.rounds.size() : 1); ++i) starts.emplace_back(&ts, i);
  }
  std::stable_sort(starts.begin(), starts.end(), [](const auto& a, const auto& b) {
    return a.first->rounds[a.second].arrival_s < b.first->rounds[b.second].arrival_s;
  });
  std::vector<bool> touched(hosts_.size(), false);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const TraceSession* ts = starts[k].first;  // not a structured binding: clang 14 cannot capture one
    const std::size_t round = starts[k].second;
    const double t = ts->rounds[round].arrival_s / spec_.trace.speedup;
    if (t > spec_.duration || (spec_.max_sessions > 0 && next_id_ >= static_cast<SessionId>(spec_.max_sessions))) break;
    sg4::this_actor::sleep_until(t);
    const std::size_t count = ts->stateless ? 1 : ts->rounds.size();
    auto send = post_first_round(*ts, round, count);
    touched[static_cast<std::size_t>(send->replica)] = true;
    spawn([this, ts, round, count, send] { trace_session(*ts, round, count, send); });
    const bool last_of_instant =
        k + 1 == starts.size() || starts[k + 1].first->rounds[starts[k + 1].second].arrival_s / spec_.trace.speedup > t;
    if (last_of_instant) flush(touched);
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
  for (std::size_t r = 0; r < hosts_.size(); ++r) {
    static ReplicaMessage shutdown{true, {}, nullptr};
    sg4::this_actor::set_host(hosts_[r]);
    sg4::Mailbox::by_name(replica_mailbox(static_cast<int>(r)))->put(&shutdown, 0);
  }
}

void ClientSide::start() {
  sg4::Host* host = hosts_.front();
  mutex_ = sg4::Mutex::create();
  all_done_ = sg4::ConditionVariable::create();
  if (spec_.trace.trace) {
    home_.assign(spec_.trace.trace->sessions.size(), -1);
    generators_ = 1;
    sg4::Actor::create("trace", host, [this] { trace_loop(); });
  } else if (spec_.arrival.type == "closed") {
    generators_ = spec_.arrival.users;
    for (long u = 0; u < spec_.arrival.users; ++u) sg4::Actor::create("user", host, [this, u] { closed_user(u); });
  } else {
    generators_ = 1;
    sg4::Actor::create("arrivals", host, [this] { open_loop(); });
  }
  sg4::Actor::create("coordinator", host, [this] { coordinator(); });
}

}  // namespace kvsim
