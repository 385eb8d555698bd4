#pragma once
/// @file trace_events.hpp
/// @brief A timeline of one run in the Chrome trace-event JSON format, which https://ui.perfetto.dev and
/// chrome://tracing open (docs/outputs.md, "The trace-event timeline"). Each replica gets two processes: one with
/// a track for its GPU (forward steps) and tracks for its links (KV transfers), one with a track per session
/// (queued, swap-in stall, prefill, decode, think). Events are streamed to an output stream as the hooks report
/// them, so memory stays proportional to the sessions and transfers in flight, not to the length of the run.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/metrics_sink.hpp"

namespace kvsim {

/// @brief What the trace says about the run besides its events.
struct TraceInfo {
  int replicas = 1;
  std::string replica_label;  ///< appended to each replica's process name, e.g. "1 x a100-sxm-80g"
  /// Written, in order, as the strings of the file's "otherData" object (scenario, seed, policy...).
  std::vector<std::pair<std::string, std::string>> other_data;
};

/// @brief Turns the hooks of every replica into trace events written to `out`.
class TraceEventWriter {
 public:
  /// @brief Writes the file's header and the names of the fixed tracks.
  TraceEventWriter(std::ostream& out, TraceInfo info);
  ~TraceEventWriter();
  TraceEventWriter(const TraceEventWriter&) = delete;
  TraceEventWriter& operator=(const TraceEventWriter&) = delete;

  /// @brief The sink of replica `r`.
  MetricsSink& sink(int replica);
  /// @brief Ends the JSON document and flushes; throws std::runtime_error if the stream failed.
  void finish();
  /// @brief Events written so far, metadata included.
  std::int64_t events() const { return events_; }

 private:
  class ReplicaSink;
  friend class ReplicaSink;
  enum class Phase : std::uint8_t { kNone, kQueued, kStall, kPrefill, kDecode, kThink };
  enum class Link : std::uint8_t { kOut, kIn, kDemote };
  /// The phase a session is in since `since_ns`.
  struct SessionTrack {
    Phase phase = Phase::kNone;
    std::int64_t since_ns = 0;
    int round = 0;  ///< 1-based, the round in progress or the last one
    double layerwise_stall_s = 0;
  };
  /// A transfer in flight, on lane `lane` of its link since `start_ns`.
  struct Transfer {
    int lane = 0;
    std::int64_t start_ns = 0;
  };

  void metadata(int pid, int tid, const char* what, const std::string& name, int sort_index);
  void complete(int pid, int tid, const char* cat, const char* name, std::int64_t start_ns, std::int64_t end_ns,
                const std::string& args);
  void instant(int pid, int tid, const char* name, std::int64_t at_ns, const std::string& args);
  void line(const std::string& event);

  SessionTrack& session(int replica, SessionId s);
  void enter(int replica, SessionId s, Phase next, double now, const std::string& extra_args = "");
  void start_transfer(int replica, SessionId s, Link link, double now);
  void end_transfer(int replica, SessionId s, Link link, const char* name, double bytes, double now,
                    const std::string& extra_args = "");
  void step(int replica, const StepRecord& step);

  std::ostream& out_;
  TraceInfo info_;
  std::vector<std::unique_ptr<ReplicaSink>> sinks_;
  std::unordered_map<SessionId, SessionTrack> sessions_;
  std::unordered_map<std::uint64_t, Transfer> transfers_;  ///< (session << 2 | link) -> transfer
  std::vector<std::vector<bool>> lanes_;                    ///< (replica * 3 + link) -> lane busy
  std::string buffer_;
  std::int64_t events_ = 0;
  bool finished_ = false;
};

}  // namespace kvsim
