#include "sim/cli/calibrate_cmd.hpp"

#include <fmt/format.h>

#include <iostream>

#include "sim/diagnostics.hpp"
#include "sim/fitted_file.hpp"
#include "sim/safe_output.hpp"

namespace kvsim::cli {
namespace {

// The cost model of a bundle: its catalog model in bf16 on its catalog GPU at `tp`, at the datasheet peaks.
struct BundleSetup {
  BundleInfo info;
  ModelSpec model;
  Deployment deployment;
};

BundleSetup setup(const Catalog& cat, const std::string& dir, const std::string& model, const std::string& gpu,
                  int tp) {
  BundleSetup s{read_bundle_info(dir), {}, {}};
  s.model = bundle_model(cat, s.info, model);
  s.deployment.gpu = bundle_gpu(cat, s.info, gpu);
  s.deployment.tensor_parallel = tp;
  s.deployment.host_link = s.deployment.gpu.host_link;
  s.deployment.compute_dtype = DType::kBf16;
  return s;
}

std::vector<TrainingStep> measure(const BundleSetup& s, int tp) {
  const CostModel cost(s.model, s.deployment);
  const StepTimer timer = bundle_step_timer(s.info, tp, s.model);
  const auto shapes = training_shapes(s.info.max_context);
  return measure_steps(cost, shapes, timer);
}

std::string describe(const BundleSetup& s, int tp) {
  return fmt::format("{} ({} on {}, catalog {} on {}, tp {})", s.info.dir.string(), s.info.model, s.info.hardware,
                     s.model.name, s.deployment.gpu.name, tp);
}

void print_coefficients(std::ostream& out, const FittedCoefficients& c) {
  out << "  coefficient          value\n";
  for (std::size_t k = 0; k < kFeatureCount; ++k) {
    const bool overhead = k >= static_cast<std::size_t>(Feature::kLayers);
    out << fmt::format("  {:<18} {:>10.4g} {}\n", feature_names()[k], overhead ? c.coef[k] * 1e6 : c.coef[k],
                       overhead ? "us" : "x datasheet roofline");
  }
}

}  // namespace

std::vector<TrainingStep> measure_steps(const CostModel& cost, std::span<const TrainingShape> shapes,
                                        const StepTimer& timer) {
  std::vector<TrainingStep> steps;
  steps.reserve(shapes.size());
  for (const auto& s : shapes) steps.push_back(TrainingStep{step_features(cost, s.batch), timer(s.batch), s.phase});
  return steps;
}

FittedCoefficients calibrate_steps(std::span<const TrainingStep> steps) {
  FittedCoefficients c;
  c.coef = fit_coefficients(steps);
  c.error = fit_report(c, steps);
  return c;
}

void print_fit_report(std::ostream& out, const FitReport& r) {
  out << "  phase    steps   mean |err|   p90 |err|   max |err|\n";
  const std::pair<const char*, const FitError*> rows[] = {
      {"prefill", &r.prefill}, {"decode", &r.decode}, {"mixed", &r.mixed}, {"all", &r.all}};
  for (const auto& [name, e] : rows) {
    out << fmt::format("  {:<8} {:>5}   {:>9.2f}%   {:>8.2f}%   {:>8.2f}%\n", name, e->steps, 100 * e->mean,
                       100 * e->p90, 100 * e->max);
  }
}

void add_calibrate_command(CLI::App& app, CalibrateOptions& o) {
  auto* c = app.add_subcommand("calibrate",
                               "fit the `fitted` step model to a measured kernel profile bundle and write its "
                               "coefficient file (step_model.coefficients)");
  c->add_option("BUNDLE_DIR", o.bundle, "profile bundle: profiles/<GPU>/<org>/<model>/<variant>/")->required();
  c->add_option("--tp", o.tp, "tensor-parallel degree of the bundle's tables to fit (default 1)")
      ->check(CLI::Range(1, 1024));
  c->add_option("--model", o.model, "catalog model the bundle measured (default: from its meta.yaml)");
  c->add_option("--gpu", o.gpu, "catalog GPU the bundle measured (default: from its meta.yaml)");
  c->add_option("-o,--out", o.out, "coefficient file to write (JSON)")->required();
  c->add_option("--check", o.check, "another bundle to predict with the fit (same --tp): the cross-model error");
  c->add_option("--check-model", o.check_model, "catalog model of the --check bundle (default: its meta.yaml)");
  c->add_option("--check-gpu", o.check_gpu, "catalog GPU of the --check bundle (default: its meta.yaml)");
  c->add_option("--platforms", o.platforms, "platforms directory (default: the built-in catalogs)");
}

int run_calibrate(const CalibrateOptions& o) {
  check_output_file(o.out, "--out", {std::filesystem::path(o.bundle) / "meta.yaml"});
  const Catalog cat = Catalog::load(o.platforms.empty() ? Catalog::default_dir() : std::filesystem::path(o.platforms));
  const BundleSetup fit_on = setup(cat, o.bundle, o.model, o.gpu, o.tp);
  const auto steps = measure(fit_on, o.tp);
  FittedCoefficients c = calibrate_steps(steps);
  c.source = o.bundle;
  c.hardware = fit_on.deployment.gpu.name;
  c.model = fit_on.model.name;
  c.tensor_parallel = o.tp;
  std::cout << "fitted on " << describe(fit_on, o.tp) << ": " << steps.size() << " step shapes\n";
  print_coefficients(std::cout, c);
  std::cout << "fit error on its own shapes (|predicted / measured - 1|):\n";
  print_fit_report(std::cout, c.error);
  if (!o.check.empty()) {
    const BundleSetup other = setup(cat, o.check, o.check_model, o.check_gpu, o.tp);
    const auto check_steps = measure(other, o.tp);
    std::cout << "predicting " << describe(other, o.tp) << ":\n";
    print_fit_report(std::cout, fit_report(c, check_steps));
  }
  write_file_atomic(o.out, fitted_to_json(c));
  std::cout << "coefficients written to " << o.out << "\n";
  return 0;
}

}  // namespace kvsim::cli
