#pragma once
/// @file plausible.hpp
/// @brief The plausible ranges of scenario and catalog quantities, each written once with the reason for its
/// bounds. They are wide enough for any real or near-future hardware and workload: a value outside is a typo or a
/// unit slip (1e400GBps, 1ns, 2147483647), refused before the run with the key, the value and the range.

#include <limits>

#include "sim/schema.hpp"

namespace kvsim::plausible {

/// @brief An inclusive range [min, max], or (min, max] when min_exclusive.
struct Range {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
};

inline constexpr double kGiB = 1073741824.0;
inline constexpr double kTiB = 1024 * kGiB;
inline constexpr double kDay = 86400;
inline constexpr double kYear = 365 * kDay;

/// @brief 1 MB/s (a slow disk) .. 100 TB/s (12x a B200's 8 TB/s of HBM): HBM, host links, NVMe.
inline constexpr Range kBandwidth{1e6, 1e14};
/// @brief 1 GFLOP/s (one CPU core) .. 1 EFLOP/s (400x a B200's dense bf16) per GPU.
inline constexpr Range kFlopRate{1e9, 1e18};
/// @brief 1 GiB .. 100 TiB of memory per GPU or per replica (a B200 has 192 GB, a large host 24 TiB).
inline constexpr Range kMemory{kGiB, 100 * kTiB};
/// @brief 1 MiB .. 100 TiB of CPU memory per replica: a deployment may leave DDR almost no room for KV, to send
/// swapped KV on to the NVMe tier.
inline constexpr Range kHostMemory{1048576, 100 * kTiB};
/// @brief 0 .. 100 TiB kept aside or added as a tier (activation reserve, a replica's share of NVMe).
inline constexpr Range kMemoryOrNone{0, 100 * kTiB};
/// @brief 0.01 .. 1 of a peak: below 1% is a unit slip, not a slow kernel.
inline constexpr Range kEfficiency{0.01, 1};
/// @brief 1 ms .. 1 year of simulated time: the horizon of a run, an SLO, a sampling period.
inline constexpr Range kDuration{1e-3, kYear};
/// @brief 0 .. 1 year: an offset or wait that may be zero (think time, ramp-up, warmup, arrival times).
inline constexpr Range kDelay{0, kYear};
/// @brief 1 .. 100M tokens: 50x the longest context served today (2M); a prompt, an answer, a window.
inline constexpr Range kTokens{1, 1e8};
/// @brief 0 .. 100M tokens, where 0 means none or off.
inline constexpr Range kTokensOrNone{0, 1e8};
/// @brief 0 .. 100,000 concurrent closed-loop users (0 = not closed): each is an actor holding a long context.
inline constexpr Range kUsers{0, 100000};
/// @brief At most 100,000 session start times in a list (a longer schedule belongs in a trace file).
inline constexpr double kMaxListTimes = 100000;
/// @brief 0 .. 65,536 GPUs, the largest clusters built; replicas are capped separately at kMaxReplicas.
inline constexpr Range kGpuCount{0, 65536};
/// @brief Replicas (GPUs / tensor_parallel) simulated at once: each is a SimGrid actor with its own KV state.
inline constexpr double kMaxReplicas = 4096;
/// @brief 1 .. 1024 GPUs per replica: tensor parallelism beyond a few racks has no all-reduce to model.
inline constexpr Range kTensorParallel{1, 1024};
/// @brief 1/year .. 1000/s session arrivals: a thousand new long-context sessions a second saturates any fleet.
inline constexpr Range kArrivalRate{1.0 / kYear, 1000};
/// @brief Sessions a run may start: rate x duration above this is refused unless workload.sessions caps it.
inline constexpr double kMaxExpectedSessions = 1e8;
/// @brief 1 ms .. 1 day between timeline rows; a finer period of a long run writes gigabytes.
inline constexpr Range kTimelinePeriod{1e-3, kDay};
/// @brief Timeline rows a run may write (duration / period).
inline constexpr double kMaxTimelineRows = 1e7;
/// @brief Rounds per session: 1 .. 100,000 questions about one document.
inline constexpr Range kRounds{1, 100000};
/// @brief A random seed: any non-negative 64-bit integer (2^63 stands for INT64_MAX).
inline constexpr Range kSeed{0, 0x1p63};
/// @brief 1 .. 1e15 parameters: 500x the largest published model (~2T).
inline constexpr Range kParams{1, 1e15};
/// @brief Counts of model structure (layers, heads, widths): 1 .. 1M, beyond any published architecture.
inline constexpr Range kModelDim{1, 1e6};
/// @brief Counts of model structure that may be 0 (experts, MLA ranks): 0 .. 1M.
inline constexpr Range kModelDimOrNone{0, 1e6};

/// @brief `k` with the range `r` declared.
inline KeySpec within(KeySpec k, Range r) {
  k.min = r.min;
  k.max = r.max;
  k.min_exclusive = r.min_exclusive;
  return k;
}

}  // namespace kvsim::plausible
