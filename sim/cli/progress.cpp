// The progress bar of `kvsim sweep` and `kvsim capacity`.
#include "sim/cli/progress.hpp"

#include <fmt/format.h>

#include <cmath>

namespace kvsim::cli {

std::string format_clock(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

Progress::Progress(std::ostream& out, std::string label, std::size_t total, std::size_t already, bool terminal)
    : out_(out),
      label_(std::move(label)),
      total_(total),
      already_(already),
      terminal_(terminal),
      start_(std::chrono::steady_clock::now()) {
  if (terminal_) draw();
}

double Progress::eta_s() const {
  if (done_ == 0) return NAN;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed / double(done_) * double(total_ - already_ - done_);
}

void Progress::done(bool failed) {
  ++done_;
  failed_ += failed ? 1 : 0;
  draw();
}

void Progress::draw() {
  const std::size_t finished = already_ + done_;
  const double eta = eta_s();
  const std::string eta_text = std::isnan(eta) ? "-:--" : format_clock(eta);
  const std::string failures = failed_ ? fmt::format(", {} failed", failed_) : "";
  if (!terminal_) {
    out_ << fmt::format("{}: {}/{} done{}, ETA {}\n", label_, finished, total_, failures, eta_text) << std::flush;
    return;
  }
  constexpr int kWidth = 30;
  const int filled = total_ ? int(double(finished) / double(total_) * kWidth) : kWidth;
  out_ << fmt::format("\r{} [{}{}] {}/{}{}  ETA {}   ", label_, std::string(filled, '#'),
                      std::string(kWidth - filled, '.'), finished, total_, failures, eta_text)
       << std::flush;
}

void Progress::finish() {
  if (terminal_) out_ << "\n" << std::flush;
}

}  // namespace kvsim::cli
