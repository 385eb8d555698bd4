#include "engine/trace_events.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <stdexcept>

#include "engine/log.hpp"

namespace kvsim {
namespace {

constexpr int kGpuTid = 1;
constexpr std::size_t kFlushBytes = std::size_t{1} << 20;

int hardware_pid(int replica) { return 2 * replica + 1; }
int sessions_pid(int replica) { return 2 * replica + 2; }
int link_tid(int link, int lane) { return (link + 1) * 1000000 + lane; }
int session_tid(SessionId s) { return static_cast<int>(s) + 1; }

// Times are kept in whole nanoseconds and written as microseconds with three decimals, so that an event that ends
// when the next one starts on its track is written with exactly that start.
std::int64_t to_ns(double seconds) { return std::llround(seconds * 1e9); }
std::string micros(std::int64_t ns) {
  const char* sign = ns < 0 ? "-" : "";
  const std::int64_t a = ns < 0 ? -ns : ns;
  return fmt::format("{}{}.{:03}", sign, a / 1000, a % 1000);
}

std::string escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out;
}

const char* link_name(int link) {
  static const char* const names[] = {"host link out: HBM -> DDR/NVMe", "host link in: DDR/NVMe -> HBM",
                                      "NVMe write: DDR -> NVMe"};
  return names[link];
}

const char* step_name(const StepRecord& s) {
  if (s.decode_tokens == 0) return "prefill";
  return s.prefill_tokens == 0 ? "decode" : "prefill+decode";
}

}  // namespace

class TraceEventWriter::ReplicaSink final : public MetricsSink {
 public:
  ReplicaSink(TraceEventWriter& w, int replica) : w_(w), r_(replica) {}

  void on_round_arrival(SessionId s, int round, double now) override {
    const bool landing = w_.transfers_.count(key(s, Link::kIn)) > 0;  // a prefetch is still landing
    w_.enter(r_, s, landing ? Phase::kStall : Phase::kQueued, now);
    auto& t = w_.sessions_.at(s);
    t.round = round + 1;
    t.layerwise_stall_s = 0;
  }
  void on_prefill_start(SessionId s, double now) override { w_.enter(r_, s, Phase::kPrefill, now); }
  void on_prefill_done(SessionId s, double now) override { w_.enter(r_, s, Phase::kDecode, now); }
  void on_round_done(SessionId s, std::int64_t answer_tokens, double now) override {
    w_.enter(r_, s, Phase::kThink, now, fmt::format(",\"answer_tokens\":{}", answer_tokens));
  }
  void on_session_end(SessionId s, std::int64_t, double now) override {
    w_.enter(r_, s, Phase::kNone, now);
    w_.sessions_.erase(s);
  }
  void on_swap_start(SessionId s, bool to_host, double, double now) override {
    w_.start_transfer(r_, s, to_host ? Link::kOut : Link::kIn, now);
    auto it = w_.sessions_.find(s);
    if (!to_host && it != w_.sessions_.end() && it->second.phase == Phase::kQueued) w_.enter(r_, s, Phase::kStall, now);
  }
  void on_swap_done(SessionId s, bool to_host, double bytes, double now) override {
    w_.end_transfer(r_, s, to_host ? Link::kOut : Link::kIn, to_host ? "swap out" : "swap in", bytes, now);
    auto it = w_.sessions_.find(s);
    if (!to_host && it != w_.sessions_.end() && it->second.phase == Phase::kStall) w_.enter(r_, s, Phase::kQueued, now);
  }
  void on_demotion_start(SessionId s, double, double now) override { w_.start_transfer(r_, s, Link::kDemote, now); }
  void on_demotion_done(SessionId s, double bytes, double now) override {
    w_.end_transfer(r_, s, Link::kDemote, "demote", bytes, now);
  }
  void on_kv_loaded_in_step(SessionId s, double bytes, double, double end, double stall_s) override {
    w_.end_transfer(r_, s, Link::kIn, "layerwise load", bytes, end, fmt::format(",\"stall_s\":{}", stall_s));
    if (auto it = w_.sessions_.find(s); it != w_.sessions_.end()) it->second.layerwise_stall_s += stall_s;
  }
  void on_kv_dropped(SessionId s, std::int64_t tokens, double bytes, double now) override {
    w_.instant(sessions_pid(r_), session_tid(s), "KV dropped", to_ns(now),
               fmt::format("\"tokens\":{},\"bytes\":{}", tokens, bytes));
  }
  void on_step(const StepRecord& step) override { w_.step(r_, step); }
  void on_state(const ReplicaState&, double) override {}

  static std::uint64_t key(SessionId s, Link link) { return (std::uint64_t{s} << 2) | static_cast<unsigned>(link); }

 private:
  TraceEventWriter& w_;
  int r_;
};

TraceEventWriter::TraceEventWriter(std::ostream& out, TraceInfo info)
    : out_(out), info_(std::move(info)), lanes_(static_cast<std::size_t>(3 * info_.replicas)) {
  buffer_ = "{\"displayTimeUnit\":\"ms\",\"otherData\":{";
  for (std::size_t i = 0; i < info_.other_data.size(); ++i) {
    const auto& [k, v] = info_.other_data[i];
    buffer_ += fmt::format("{}\"{}\":\"{}\"", i ? "," : "", escape(k), escape(v));
  }
  buffer_ += "},\"traceEvents\":[\n";
  const std::string label = info_.replica_label.empty() ? "" : " (" + info_.replica_label + ")";
  for (int r = 0; r < info_.replicas; ++r) {
    sinks_.push_back(std::make_unique<ReplicaSink>(*this, r));
    metadata(hardware_pid(r), 0, "process_name", fmt::format("replica {}: GPU and links{}", r, label), hardware_pid(r));
    metadata(sessions_pid(r), 0, "process_name", fmt::format("replica {}: sessions", r), sessions_pid(r));
    metadata(hardware_pid(r), kGpuTid, "thread_name", "GPU: forward steps", kGpuTid);
  }
}

TraceEventWriter::~TraceEventWriter() = default;

MetricsSink& TraceEventWriter::sink(int replica) { return *sinks_.at(static_cast<std::size_t>(replica)); }

void TraceEventWriter::finish() {
  if (finished_) return;
  buffer_ += "\n]}\n";
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
  out_.flush();
  finished_ = true;
  if (!out_) throw std::runtime_error("cannot write the trace-event file");
  log("trace").info("{} trace events written", events_);
}

void TraceEventWriter::line(const std::string& event) {
  if (events_ > 0) buffer_ += ",\n";
  buffer_ += event;
  ++events_;
  if (buffer_.size() < kFlushBytes) return;
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
}

// A process or thread name ("process_name", "thread_name") and its sort index, which orders the tracks.
void TraceEventWriter::metadata(int pid, int tid, const char* what, const std::string& name, int sort_index) {
  line(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"ts":0,"name":"{}","args":{{"name":"{}"}}}})", pid, tid, what,
                   escape(name)));
  const bool process = std::string(what) == "process_name";
  line(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"ts":0,"name":"{}","args":{{"sort_index":{}}}}})", pid, tid,
                   process ? "process_sort_index" : "thread_sort_index", sort_index));
}

void TraceEventWriter::complete(int pid, int tid, const char* cat, const char* name, std::int64_t start_ns,
                                std::int64_t end_ns, const std::string& args) {
  line(fmt::format(R"({{"ph":"X","pid":{},"tid":{},"ts":{},"dur":{},"cat":"{}","name":"{}","args":{{{}}}}})", pid,
                   tid, micros(start_ns), micros(end_ns - start_ns), cat, name, args));
}

void TraceEventWriter::instant(int pid, int tid, const char* name, std::int64_t at_ns, const std::string& args) {
  line(fmt::format(R"({{"ph":"i","s":"t","pid":{},"tid":{},"ts":{},"cat":"session","name":"{}","args":{{{}}}}})",
                   pid, tid, micros(at_ns), name, args));
}

TraceEventWriter::SessionTrack& TraceEventWriter::session(int replica, SessionId s) {
  auto [it, added] = sessions_.try_emplace(s);
  if (added) {
    metadata(sessions_pid(replica), session_tid(s), "thread_name", fmt::format("session {}", s), session_tid(s));
  }
  return it->second;
}

// Ends the session's current phase at `now` with an event (unless it lasted no time; a prefill always gets one)
// and starts `next`.
void TraceEventWriter::enter(int replica, SessionId s, Phase next, double now, const std::string& extra_args) {
  static const char* const names[] = {"", "queued", "swap-in stall", "prefill", "decode", "think"};
  SessionTrack& t = session(replica, s);
  const std::int64_t now_ns = to_ns(now);
  if (t.phase != Phase::kNone && (now_ns > t.since_ns || t.phase == Phase::kPrefill)) {
    std::string args = fmt::format("\"round\":{}", t.round);
    if (t.phase == Phase::kPrefill) args += fmt::format(",\"layerwise_stall_s\":{}", t.layerwise_stall_s);
    if (t.phase == Phase::kDecode) args += extra_args;
    complete(sessions_pid(replica), session_tid(s), "session", names[static_cast<int>(t.phase)], t.since_ns, now_ns,
             args);
  }
  t.phase = next;
  t.since_ns = now_ns;
}

// A transfer takes the first free lane of its link; overlapping transfers (which share the link's bandwidth) get
// further lanes, each its own track, so that events on a track never overlap.
void TraceEventWriter::start_transfer(int replica, SessionId s, Link link, double now) {
  const int l = static_cast<int>(link);
  auto& lanes = lanes_.at(static_cast<std::size_t>(3 * replica + l));
  std::size_t lane = 0;
  while (lane < lanes.size() && lanes[lane]) ++lane;
  if (lane == lanes.size()) {
    lanes.push_back(false);
    const int tid = link_tid(l, static_cast<int>(lane));
    metadata(hardware_pid(replica), tid, "thread_name",
             lane == 0 ? std::string(link_name(l)) : fmt::format("{} #{}", link_name(l), lane + 1), tid);
  }
  lanes[lane] = true;
  transfers_[ReplicaSink::key(s, link)] = Transfer{static_cast<int>(lane), to_ns(now)};
}

void TraceEventWriter::end_transfer(int replica, SessionId s, Link link, const char* name, double bytes, double now,
                                    const std::string& extra_args) {
  const auto it = transfers_.find(ReplicaSink::key(s, link));
  if (it == transfers_.end()) throw std::logic_error(fmt::format("trace: {} of session {} never started", name, s));
  const int l = static_cast<int>(link);
  lanes_.at(static_cast<std::size_t>(3 * replica + l)).at(static_cast<std::size_t>(it->second.lane)) = false;
  complete(hardware_pid(replica), link_tid(l, it->second.lane), "transfer", name, it->second.start_ns, to_ns(now),
           fmt::format("\"session\":{},\"bytes\":{}{}", s, bytes, extra_args));
  transfers_.erase(it);
}

void TraceEventWriter::step(int replica, const StepRecord& s) {
  complete(hardware_pid(replica), kGpuTid, "step", step_name(s), to_ns(s.start_s), to_ns(s.end_s),
           fmt::format(R"("batch_size":{},"steps":{},"prefill_tokens":{},"decode_tokens":{},"flops":{},"hbm_bytes":{})",
                       s.batch_size, s.steps, s.prefill_tokens, s.decode_tokens, s.flops, s.hbm_bytes));
}

}  // namespace kvsim
