// kvsim: a discrete-event simulator of long-context LLM serving. Subcommands are registered here; each lives
// in its own file. Exit codes: 0 success, 2 bad input (every problem printed), 1 internal error.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "engine/log.hpp"
#include "sim/cli/analyze_cmd.hpp"
#include "sim/cli/calibrate_cmd.hpp"
#include "sim/cli/capacity_cmd.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/compare_cmd.hpp"
#include "sim/cli/compare_runner.hpp"
#include "sim/cli/plan_cmd.hpp"
#include "sim/cli/plot_cmd.hpp"
#include "sim/cli/replay_cmd.hpp"
#include "sim/cli/sweep_cmd.hpp"
#include "sim/cli/trace_cmd.hpp"
#include "sim/diagnostics.hpp"

namespace {

int report_input_error(const kvsim::InputError& e) {
  for (const auto& d : e.items()) std::cerr << "error: " << d.str() << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  kvsim::cli::die_with_parent();
  CLI::App app{"kvsim: a discrete-event simulator of long-context LLM serving (SimGrid inside)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", KVSIM_VERSION);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (default warn)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  kvsim::cli::AnalyzeOptions analyze;
  kvsim::cli::add_analyze_command(app, analyze);
  kvsim::cli::Commands commands;
  kvsim::cli::add_commands(app, commands);
  kvsim::cli::CompareOptions compare;
  kvsim::cli::add_compare_command(app, compare);
  kvsim::cli::SweepOptions sweep;
  kvsim::cli::add_sweep_command(app, sweep);
  kvsim::cli::CapacityOptions capacity;
  kvsim::cli::add_capacity_command(app, capacity);
  kvsim::cli::PlanOptions plan;
  kvsim::cli::add_plan_command(app, plan);
  kvsim::cli::PlotOptions plot;
  kvsim::cli::add_plot_command(app, plot);
  kvsim::cli::ReplayOptions replay;
  kvsim::cli::add_replay_command(app, replay);
  kvsim::cli::TraceCmdOptions trace;
  kvsim::cli::add_trace_command(app, trace);
  kvsim::cli::CalibrateOptions calibrate;
  kvsim::cli::add_calibrate_command(app, calibrate);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\nRun with --help for the options.\n";
    return 2;
  }
  kvsim::set_log_level(log_level);
  try {
    if (app.got_subcommand("analyze")) return kvsim::cli::run_analyze(analyze);
    compare.log_level = log_level;
    if (app.got_subcommand("compare")) return kvsim::cli::run_compare(compare);
    sweep.log_level = log_level;
    if (app.got_subcommand("sweep")) return kvsim::cli::run_sweep(sweep);
    capacity.log_level = log_level;
    if (app.got_subcommand("capacity")) return kvsim::cli::run_capacity(capacity);
    plan.log_level = log_level;
    if (app.got_subcommand("plan")) return kvsim::cli::run_plan(plan);
    if (app.got_subcommand("plot")) return kvsim::cli::run_plot(plot);
    if (app.got_subcommand("replay")) return kvsim::cli::run_replay(replay);
    if (app.got_subcommand("trace")) return kvsim::cli::run_trace(app, trace);
    if (app.got_subcommand("calibrate")) return kvsim::cli::run_calibrate(calibrate);
    return kvsim::cli::run_commands(app, commands);
  } catch (const kvsim::InputError& e) {
    return report_input_error(e);
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return 1;
  }
}
