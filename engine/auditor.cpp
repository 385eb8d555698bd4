#include "engine/auditor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace kvsim {

void Auditor::fail(double now, const std::string& what) const {
  throw AuditFailure(fmt::format("audit: t={:.9f} s, replica {}: {}", now, replica_, what));
}

void Auditor::tick(double now) {
  if (now < last_now_) fail(now, fmt::format("simulated time went backwards from {:.9f} s", last_now_));
  last_now_ = now;
}

void Auditor::check_ledgers(double now) const {
  if (!scheduler_) return;
  const HbmLedger& hbm = scheduler_->hbm();
  const DdrLedger& ddr = scheduler_->ddr();
  if (hbm.used_blocks() < 0 || hbm.used_blocks() > hbm.total_blocks()) {
    fail(now, fmt::format("HBM KV blocks used {} outside [0, {}]", hbm.used_blocks(), hbm.total_blocks()));
  }
  if (hbm.allocated_total() - hbm.released_total() != hbm.used_blocks()) {
    fail(now, fmt::format("HBM block ledger: allocated {} - released {} != used {}", hbm.allocated_total(),
                          hbm.released_total(), hbm.used_blocks()));
  }
  for (const auto* l : {&ddr, &scheduler_->nvme()}) {
    if (l->used_bytes() < -0.5 || l->used_bytes() > l->capacity() + 0.5) {
      fail(now, fmt::format("{} bytes used {:.0f} outside [0, {:.0f}]", l == &ddr ? "DDR" : "NVMe", l->used_bytes(),
                            l->capacity()));
    }
  }
  const auto c = scheduler_->census();
  if (c.blocks + c.prefix_blocks != hbm.used_blocks()) {
    fail(now, fmt::format("sessions hold {} HBM blocks and the prefix cache {} but the ledger says {}", c.blocks,
                          c.prefix_blocks, hbm.used_blocks()));
  }
  if (std::fabs(c.ddr_bytes + c.prefix_ddr_bytes - ddr.used_bytes()) > 0.5) {
    fail(now, fmt::format("sessions hold {:.0f} DDR bytes and the prefix cache {:.0f} but the ledger says {:.0f}",
                          c.ddr_bytes, c.prefix_ddr_bytes, ddr.used_bytes()));
  }
  if (std::fabs(c.nvme_bytes - scheduler_->nvme().used_bytes()) > 0.5) {
    fail(now, fmt::format("sessions hold {:.0f} NVMe bytes but the ledger says {:.0f}", c.nvme_bytes,
                          scheduler_->nvme().used_bytes()));
  }
  if (written_ + imported_ != c.kv_tokens_hbm + c.kv_tokens_ddr + dropped_ + freed_ + exported_) {
    fail(now, fmt::format("KV ledger: written {} + imported {} != resident {} + swapped {} + dropped {} + freed {} "
                          "+ exported {}",
                          written_, imported_, c.kv_tokens_hbm, c.kv_tokens_ddr, dropped_, freed_, exported_));
  }
}

void Auditor::on_round_arrival(SessionId s, int round, double now) {
  tick(now);
  if (open_rounds_[s]) fail(now, fmt::format("session {} round {} arrived while a round is open", s, round + 1));
  open_rounds_[s] = true;
  next_.on_round_arrival(s, round, now);
}

void Auditor::on_prefill_start(SessionId s, double now) {
  tick(now);
  if (!open_rounds_[s]) fail(now, fmt::format("prefill started for session {} with no open round", s));
  next_.on_prefill_start(s, now);
}

void Auditor::on_prefill_done(SessionId s, double now) {
  tick(now);
  ++written_;  // the prefill's last step also writes the first generated token's KV
  next_.on_prefill_done(s, now);
}

void Auditor::on_round_done(SessionId s, std::int64_t answer_tokens, double now) {
  tick(now);
  if (!open_rounds_[s]) fail(now, fmt::format("session {} finished a round that was not open", s));
  open_rounds_[s] = false;
  next_.on_round_done(s, answer_tokens, now);
}

void Auditor::on_session_end(SessionId s, std::int64_t freed_tokens, double now) {
  tick(now);
  const auto it = open_rounds_.find(s);
  if (it == open_rounds_.end()) fail(now, fmt::format("session {} ended twice or never started", s));
  if (it->second) fail(now, fmt::format("session {} ended with a round open", s));
  open_rounds_.erase(it);
  freed_ += freed_tokens;
  next_.on_session_end(s, freed_tokens, now);
}

void Auditor::on_swap_start(SessionId s, bool to_host, double bytes, double now) {
  tick(now);
  if (!(bytes > 0)) fail(now, fmt::format("session {} started a transfer of {} bytes", s, bytes));
  next_.on_swap_start(s, to_host, bytes, now);
}

void Auditor::on_swap_done(SessionId s, bool to_host, double bytes, double now) {
  tick(now);
  next_.on_swap_done(s, to_host, bytes, now);
}

void Auditor::on_kv_loaded_in_step(SessionId s, double bytes, double start, double end, double stall_s) {
  tick(end);
  if (stall_s < 0 || stall_s > end - start + 1e-9) fail(end, fmt::format("load stall {} outside the step", stall_s));
  next_.on_kv_loaded_in_step(s, bytes, start, end, stall_s);
}

void Auditor::on_kv_dropped(SessionId s, std::int64_t tokens, double bytes, double now) {
  tick(now);
  dropped_ += tokens;
  next_.on_kv_dropped(s, tokens, bytes, now);
}

void Auditor::on_prefix_lookup(SessionId s, std::int64_t blocks, std::int64_t hbm_hits, std::int64_t ddr_hits,
                               std::int64_t tokens_saved, double now) {
  tick(now);
  if (hbm_hits < 0 || ddr_hits < 0 || hbm_hits + ddr_hits > blocks) {
    fail(now, fmt::format("session {}: prefix hits {} + {} outside [0, {} blocks]", s, hbm_hits, ddr_hits, blocks));
  }
  next_.on_prefix_lookup(s, blocks, hbm_hits, ddr_hits, tokens_saved, now);
}

void Auditor::on_prefix_offload(double bytes, double start, double end) {
  tick(end);
  if (!(bytes > 0) || end < start) fail(end, fmt::format("prefix offload of {} bytes from {} s", bytes, start));
  next_.on_prefix_offload(bytes, start, end);
}

void Auditor::on_kv_import_start(SessionId s, int from, std::int64_t tokens, double bytes, double now) {
  tick(now);
  if (!(bytes > 0) || tokens <= 0) fail(now, fmt::format("session {} pulls {} tokens ({} bytes)", s, tokens, bytes));
  if (from == replica_) fail(now, fmt::format("session {} pulls its KV from its own replica", s));
  imported_ += tokens;
  if (moves_) moves_->imported(s, tokens, now);
  next_.on_kv_import_start(s, from, tokens, bytes, now);
}

void Auditor::on_kv_import_done(SessionId s, int from, std::int64_t tokens, double bytes, bool first, double now) {
  tick(now);
  next_.on_kv_import_done(s, from, tokens, bytes, first, now);
}

void Auditor::on_kv_export(SessionId s, std::int64_t moved, std::int64_t freed, double now) {
  tick(now);
  const auto it = open_rounds_.find(s);
  if (it == open_rounds_.end()) fail(now, fmt::format("session {} left a replica it was not on", s));
  if (it->second) fail(now, fmt::format("session {} left with a round open", s));
  open_rounds_.erase(it);
  exported_ += freed;
  if (moves_ && moved > 0) moves_->exported(s, moved, now);
  next_.on_kv_export(s, moved, freed, now);
}

void Auditor::on_handoff(SessionId s, double now) {
  tick(now);
  if (!open_rounds_[s]) fail(now, fmt::format("session {} handed off a round that was not open", s));
  open_rounds_[s] = false;
  next_.on_handoff(s, now);
}

void Auditor::on_leg_arrival(SessionId s, int round, double now) {
  tick(now);
  if (open_rounds_[s]) fail(now, fmt::format("session {} round {} decode leg arrived while a round is open", s, round));
  open_rounds_[s] = true;
  next_.on_leg_arrival(s, round, now);
}

void MoveLedger::imported(SessionId s, std::int64_t tokens, double now) {
  if (in_flight_.count(s)) {
    throw AuditFailure(fmt::format("audit: t={:.9f} s: session {} pulled twice at once", now, s));
  }
  in_flight_[s] = tokens;
}

void MoveLedger::exported(SessionId s, std::int64_t tokens, double now) {
  const auto it = in_flight_.find(s);
  if (it == in_flight_.end() || it->second != tokens) {
    throw AuditFailure(fmt::format("audit: t={:.9f} s: session {} let go of {} KV tokens but {} were pulled", now, s,
                                   tokens, it == in_flight_.end() ? 0 : it->second));
  }
  in_flight_.erase(it);
}

void MoveLedger::finish(double now) const {
  for (const auto& [s, tokens] : in_flight_) {
    throw AuditFailure(
        fmt::format("audit: t={:.9f} s: session {}'s {} KV tokens never left their source", now, s, tokens));
  }
}

void Auditor::on_step(const StepRecord& step) {
  tick(step.end_s);
  if (step.end_s < step.start_s) fail(step.end_s, "a step ended before it started");
  written_ += step.prefill_tokens + step.decode_tokens;
  next_.on_step(step);
}

void Auditor::on_state(const ReplicaState& state, double now) {
  tick(now);
  next_.on_state(state, now);
  check_ledgers(now);
}

void Auditor::finish(double now) const {
  for (const auto& [s, open] : open_rounds_) {
    fail(now, fmt::format("session {} never ended{}", s, open ? " (a round is still open)" : ""));
  }
  if (scheduler_ && !scheduler_->idle()) fail(now, "the replica ended with work queued, running or moving");
  check_ledgers(now);
  if (!scheduler_) return;
  const PrefixCache& cache = scheduler_->prefix();
  const auto [hbm_blocks, ddr_blocks] = cache.recount();
  if (hbm_blocks != cache.hbm_blocks() || ddr_blocks != cache.ddr_blocks()) {
    fail(now, fmt::format("prefix cache counts {} HBM and {} DDR blocks but holds {} and {}", cache.hbm_blocks(),
                          cache.ddr_blocks(), hbm_blocks, ddr_blocks));
  }
}

void audit_summary(const RunMetrics& m) {
  std::map<std::string, double> sum;
  for (const auto& [k, v] : m.summary()) sum[k] = v;
  double in_rows = 0, in_transfers = 0, out_transfers = 0;
  long counted = 0;
  for (const auto& r : m.rounds()) {
    in_rows += r.swap_in_bytes;
    counted += r.counted ? 1 : 0;
  }
  for (const auto& t : m.transfers()) {
    if (!t.demotion) (t.to_host ? out_transfers : in_transfers) += t.bytes;
  }
  auto same = [](double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); };
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) throw AuditFailure("audit: summary disagrees with its rows: " + what);
  };
  check(same(sum["rounds_completed"], double(counted)),
        fmt::format("rounds_completed {} vs {} counted rows", sum["rounds_completed"], counted));
  check(same(sum["swap.bytes_in"], in_transfers),
        fmt::format("swap.bytes_in {} vs transfers {}", sum["swap.bytes_in"], in_transfers));
  check(same(sum["swap.bytes_out"], out_transfers),
        fmt::format("swap.bytes_out {} vs transfers {}", sum["swap.bytes_out"], out_transfers));
  check(same(in_rows, in_transfers), fmt::format("rounds' swap_in_bytes {} vs transfers {}", in_rows, in_transfers));
  const auto swaps = std::count_if(m.transfers().begin(), m.transfers().end(), [](auto& t) { return !t.demotion; });
  check(same(sum["swap.count"], double(swaps)), fmt::format("swap.count {} vs {} transfers", sum["swap.count"], swaps));
  check(m.unfinished_sessions() == 0, fmt::format("{} sessions unfinished", m.unfinished_sessions()));
}

}  // namespace kvsim
