#pragma once
/// @file plot_cmd.hpp
/// @brief `kvsim plot DIR`: draws a sweep, a compare or a run directory with gnuplot, as PNG and SVG in
/// DIR/plots/, next to the data files and gnuplot scripts that made them (docs/sweeps.md lists the plots).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <ostream>
#include <string>

namespace kvsim::cli {

/// @brief Options of `kvsim plot`.
struct PlotOptions {
  std::string dir;
};

/// @brief Registers the subcommand on `app`.
void add_plot_command(CLI::App& app, PlotOptions& opt);
/// @brief Draws the plots of `dir` into `dir`/plots and lists them on `out`; throws InputError when `dir` is
/// not a kvsim output directory or gnuplot is missing (saying how to install it).
void plot_directory(const std::filesystem::path& dir, std::ostream& out);
/// @brief Runs it: 0, or InputError (exit 2).
int run_plot(const PlotOptions& opt);

}  // namespace kvsim::cli
