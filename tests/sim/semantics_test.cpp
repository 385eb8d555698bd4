// SimGrid's resource semantics as kvsim uses them, checked against hand-computed times. Each TEST runs its own
// SimGrid engine, so ctest runs each in its own process (SimGrid allows one engine per process).
#include <gtest/gtest.h>

#include <functional>

#include "sim/activities.hpp"
#include "sim/platform.hpp"

namespace kvsim {
namespace {
namespace sg4 = simgrid::s4u;

// The paper's A100: 312 TFLOP/s, 2 TB/s HBM, PCIe at 20 GB/s per direction, NVLink 300 GB/s per direction.
Deployment paper_a100(int tp) {
  Deployment d;
  d.gpu.flops_bf16 = 312e12;
  d.gpu.hbm_bandwidth = 2e12;
  d.gpu.hbm_capacity = 80e9;
  d.gpu.nvlink.bandwidth = 300e9;
  d.host_link.bandwidth = 20e9;
  d.tensor_parallel = tp;
  return d;
}

// A step's work on the paper's A100 and its demand in seconds, as the roofline step model gives it: the executor
// runs the seconds (compute at 312 TFLOP/s, HBM at 2 TB/s, NVLink at 300 GB/s per direction).
StepCost a100_step(double flops, double hbm_bytes, double nvlink_bytes) {
  StepCost c{flops, hbm_bytes, nvlink_bytes, flops / 312e12, hbm_bytes / 2e12, nvlink_bytes / 300e9};
  return c.settle();
}

// Runs `body` as an actor on a fresh platform and returns the simulated end time.
double simulate(const Deployment& d, int replicas, const std::function<void(const std::vector<ReplicaHosts>&)>& body) {
  int argc = 2;
  char a0[] = "test", a1[] = "--log=root.thres:critical";
  char* argv[] = {a0, a1, nullptr};
  sg4::Engine engine(&argc, argv);
  configure_engine(engine);
  const auto hosts = build_platform(d, replicas);
  sg4::Actor::create("test", hosts[0].cpu, [&] { body(hosts); });
  engine.run();
  return sg4::Engine::get_clock();
}

TEST(SimgridSemantics, ComputeBoundStepTakesFlopsOverPeak) {
  // The paper's 50K prefill: 4.6288e15 FLOP and 80.3e9 B -> max(14.836 s, 0.040 s) = 14.836 s.
  const double t = simulate(paper_a100(1), 1, [](const auto& h) {
    StepLauncher(h[0]).start(a100_step(4.6288e15, 80.288e9, 0))->wait();
  });
  EXPECT_NEAR(t, 4.6288e15 / 312e12, 1e-9);
}

TEST(SimgridSemantics, MemoryBoundStepTakesBytesOverBandwidth) {
  // A decode step at 50K: 92.6e9 FLOP and 80.3e9 B -> max(0.297 ms, 40.14 ms) = 40.14 ms.
  const double t = simulate(paper_a100(1), 1, [](const auto& h) {
    StepLauncher(h[0]).start(a100_step(92.6e9, 80.288e9, 0))->wait();
  });
  EXPECT_NEAR(t, 80.288e9 / 2e12, 1e-12);
}

TEST(SimgridSemantics, TwoConcurrentSwapsShareTheLink) {
  // Alone, 12.288e9 B at 20 GB/s takes 0.6144 s; two at once on the same direction take 1.2288 s each.
  double first = 0, second = 0;
  simulate(paper_a100(1), 1, [&](const auto& h) {
    auto a = start_transfer(h[0], true, 12.288e9);
    auto b = start_transfer(h[0], true, 12.288e9);
    a->wait();
    first = sg4::Engine::get_clock();
    b->wait();
    second = sg4::Engine::get_clock();
  });
  EXPECT_NEAR(first, 2 * 12.288e9 / 20e9, 1e-9);
  EXPECT_NEAR(second, 2 * 12.288e9 / 20e9, 1e-9);
}

TEST(SimgridSemantics, SwapInAndSwapOutUseSeparateDirections) {
  // PCIe is full duplex: a swap-out and a swap-in at once each take 0.6144 s, as if alone.
  double out = 0, in = 0;
  simulate(paper_a100(1), 1, [&](const auto& h) {
    auto a = start_transfer(h[0], true, 12.288e9);
    auto b = start_transfer(h[0], false, 12.288e9);
    a->wait();
    out = sg4::Engine::get_clock();
    b->wait();
    in = sg4::Engine::get_clock();
  });
  EXPECT_NEAR(out, 12.288e9 / 20e9, 1e-9);
  EXPECT_NEAR(in, 12.288e9 / 20e9, 1e-9);
}

TEST(SimgridSemantics, SwapDoesNotSlowADecodeStep) {
  // A 40.14 ms decode step and a 0.6144 s swap-out run together; they use different resources (HBM link vs host
  // link), so the step still ends at 40.14 ms and the swap at 0.6144 s.
  double step = 0, swap = 0;
  simulate(paper_a100(1), 1, [&](const auto& h) {
    auto s = StepLauncher(h[0]).start(a100_step(92.6e9, 80.288e9, 0));
    auto x = start_transfer(h[0], true, 12.288e9);
    s->wait();
    step = sg4::Engine::get_clock();
    x->wait();
    swap = sg4::Engine::get_clock();
  });
  EXPECT_NEAR(step, 80.288e9 / 2e12, 1e-12);
  EXPECT_NEAR(swap, 12.288e9 / 20e9, 1e-9);
}

TEST(SimgridSemantics, SharedHostLinkDoesNotScaleWithTensorParallelism) {
  // TP=4 with one shared host link: the KV is split four ways but crosses the same 20 GB/s link: 0.6144 s.
  const double shared = simulate(paper_a100(4), 1, [](const auto& h) { start_transfer(h[0], true, 12.288e9)->wait(); });
  EXPECT_NEAR(shared, 12.288e9 / 20e9, 1e-9);
}

TEST(SimgridSemantics, PerGpuHostLinksDoScale) {
  Deployment d = paper_a100(4);
  d.host_link_shared = false;
  const double t = simulate(d, 1, [](const auto& h) { start_transfer(h[0], true, 12.288e9)->wait(); });
  EXPECT_NEAR(t, 12.288e9 / 4 / 20e9, 1e-9);
}

TEST(SimgridSemantics, TensorParallelStepIsMaxOfComputeMemoryAndNvlink) {
  // Per GPU: 1e12 FLOP (3.2 ms), 2e9 B of HBM (1 ms), 1.5e9 B over NVLink at 300 GB/s (5 ms): NVLink-bound.
  const double t = simulate(paper_a100(2), 1, [](const auto& h) {
    StepLauncher(h[0]).start(a100_step(1e12, 2e9, 1.5e9))->wait();
  });
  EXPECT_NEAR(t, 1.5e9 / 300e9, 1e-12);
}

TEST(SimgridSemantics, ReplicasDoNotShareResources) {
  // Two replicas each run a compute-bound step at once: both end at the alone time.
  const double t = simulate(paper_a100(1), 2, [](const auto& h) {
    auto a = StepLauncher(h[0]).start(a100_step(312e12, 1e9, 0));
    auto b = StepLauncher(h[1]).start(a100_step(312e12, 1e9, 0));
    a->wait();
    b->wait();
  });
  EXPECT_NEAR(t, 1.0, 1e-12);
}

}  // namespace
}  // namespace kvsim
