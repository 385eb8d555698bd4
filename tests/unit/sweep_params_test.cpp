// The grid of `kvsim sweep`: ranges, lists, units, the product's order, the tables' mean and 95% interval, and the
// labels and file names of its plots.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/cli/compare_output.hpp"
#include "sim/cli/csv.hpp"
#include "sim/cli/plot_data.hpp"
#include "sim/cli/sweep_params.hpp"
#include "sim/cli/sweep_store.hpp"
#include "sim/diagnostics.hpp"

namespace kvsim::cli {
namespace {

TEST(SweepParams, LinearRangeIncludesBothEndsWithoutDrift) {
  // 0.005 to 0.2 by 0.005 is (0.2 - 0.005) / 0.005 + 1 = 40 values; floating-point steps must not lose the last.
  const auto p = parse_sweep_param("--param", "workload.arrival.rate=0.005:0.2:0.005/s");
  EXPECT_EQ(p.key, "workload.arrival.rate");
  ASSERT_EQ(p.values.size(), 40u);
  EXPECT_EQ(p.values.front(), "0.005/s");
  EXPECT_EQ(p.values[2], "0.015/s");
  EXPECT_EQ(p.values.back(), "0.2/s");
}

TEST(SweepParams, LastUnitAppliesToEveryEnd) {
  EXPECT_EQ(parse_sweep_param("--param", "k=10:30:10/h").values, (std::vector<std::string>{"10/h", "20/h", "30/h"}));
  EXPECT_EQ(parse_sweep_param("--param", "k=10/h:30/h:10/h").values.size(), 3u);
  EXPECT_THROW(parse_sweep_param("--param", "k=10/h:30/s:10/h"), InputError);
}

TEST(SweepParams, GeometricRangeMultipliesByTheFactor) {
  // 1, 2, 4, ..., 64: seven values.
  EXPECT_EQ(parse_sweep_param("--param", "k=1:64:x2").values,
            (std::vector<std::string>{"1", "2", "4", "8", "16", "32", "64"}));
  EXPECT_THROW(parse_sweep_param("--param", "k=0:64:x2"), InputError);
  EXPECT_THROW(parse_sweep_param("--param", "k=1:64:x1"), InputError);
}

TEST(SweepParams, ListsAndSingleValues) {
  EXPECT_EQ(parse_sweep_param("--param", "p=swap, recompute").values, (std::vector<std::string>{"swap", "recompute"}));
  EXPECT_EQ(parse_sweep_param("--param", "p=swap").values, (std::vector<std::string>{"swap"}));
  EXPECT_THROW(parse_sweep_param("--param", "p=swap,,recompute"), InputError);
  EXPECT_THROW(parse_sweep_param("--param", "p=swap,swap"), InputError);
  EXPECT_THROW(parse_sweep_param("--param", "=swap"), InputError);
  EXPECT_THROW(parse_sweep_param("--param", "no-equals"), InputError);
}

TEST(SweepParams, BadRangesSayWhatIsExpected) {
  for (const char* bad : {"k=1:0:1", "k=0:1:0", "k=0:1:-1", "k=a:b:c", "k=0:1e9:1"}) {
    try {
      parse_sweep_param("--param", bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InputError& e) {
      ASSERT_EQ(e.items().size(), 1u);
      EXPECT_EQ(e.items()[0].key, "--param");
      EXPECT_EQ(e.items()[0].value, bad);
      EXPECT_FALSE(e.items()[0].message.empty());
    }
  }
}

TEST(SweepParams, ProductVariesTheFirstParameterSlowest) {
  const auto params = parse_sweep_params("--param", {"a=1,2", "b=x,y,z"});
  const auto points = sweep_points(params);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[1].values, (std::vector<std::string>{"1", "y"}));
  EXPECT_EQ(points[3].values, (std::vector<std::string>{"2", "x"}));
  EXPECT_EQ(point_sets(params, points[5]), (std::vector<std::string>{"a=2", "b=z"}));
  EXPECT_THROW(parse_sweep_params("--param", {"a=1,2", "a=3"}), InputError);
  EXPECT_EQ(sweep_points({}).size(), 1u);
}

TEST(SweepStore, StudentTQuantiles) {
  EXPECT_DOUBLE_EQ(t975(1), 12.706);
  EXPECT_DOUBLE_EQ(t975(2), 4.303);
  EXPECT_DOUBLE_EQ(t975(30), 2.042);
  EXPECT_DOUBLE_EQ(t975(1000), 1.960);
}

TEST(SweepStore, CsvHasMeanAndHalfWidthOverReplicates) {
  const auto params = parse_sweep_params("--param", {"a=1"});
  const auto points = sweep_points(params);
  const std::size_t ncol = compare_columns().size();
  std::vector<RunRecord> records;
  for (int r = 0; r < 3; ++r) {
    RunRecord rec{run_id(0, r), 0, r, std::uint64_t(1 + r), true, 0, "", std::vector<double>(ncol, 1.0 + r)};
    records.push_back(rec);
  }
  // Values 1, 2, 3: mean 2, sample standard deviation 1, half-width t(0.975, 2) x 1 / sqrt(3) = 2.484338...
  // The analyze_* fields come between the counts and the metrics; a point without them leaves them empty.
  const std::string csv = sweep_csv(params, points, 3, records, {PointAnalysis{1.5, 14.8, 9.8, 1.2}});
  const std::string row = csv.substr(csv.find('\n') + 1);
  EXPECT_EQ(row.substr(0, 39), "0,1,3,0,1.5,14.8,9.8,1.2,2,2.484338208,") << row;
  const std::string bare = sweep_csv(params, points, 3, records);
  EXPECT_EQ(bare.substr(bare.find('\n') + 1, 26), "0,1,3,0,,,,,2,2.484338208,") << bare;
  EXPECT_NEAR(4.303 / std::sqrt(3.0), 2.4843382, 1e-6);
}

TEST(SweepStore, RecordLinesRoundTrip) {
  const auto params = parse_sweep_params("--param", {"a=1,2"});
  const auto points = sweep_points(params);
  RunRecord ok{run_id(1, 0), 1, 0, 7, true, 0, "", std::vector<double>(compare_columns().size(), 0.25), 1.5};
  RunRecord bad{run_id(0, 0), 0, 0, 7, false, 2, "error: something", {}, 0.1};
  const auto back = parse_records(record_line(params, points, ok) + record_line(params, points, bad), "test");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].id, "p0001-r0");
  EXPECT_TRUE(back[0].ok);
  EXPECT_EQ(back[0].metrics, ok.metrics);
  EXPECT_FALSE(back[1].ok);
  EXPECT_EQ(back[1].error, "error: something");
  EXPECT_THROW(parse_records("{\"id\": 3}\n", "test"), InputError);
}

// A points.jsonl written before ttft_p90_s existed still resumes: the record reads back, and the column it lacks is
// left empty in runs.csv and sweep.csv rather than made up or refused.
TEST(SweepStore, ARecordWithoutAMetricLeavesItsColumnsEmpty) {
  const auto params = parse_sweep_params("--param", {"a=1"});
  const auto points = sweep_points(params);
  const auto& columns = compare_columns();
  const auto p90 = std::size_t(
      std::find_if(columns.begin(), columns.end(), [](const CompareColumn& c) { return c.name == "ttft_p90_s"; }) -
      columns.begin());
  ASSERT_LT(p90, columns.size());
  RunRecord ok{run_id(0, 0), 0, 0, 7, true, 0, "", std::vector<double>(columns.size(), 0.25), 1.5};
  auto j = nlohmann::json::parse(record_line(params, points, ok));
  j["metrics"].erase("ttft_p90_s");
  const auto back = parse_records(j.dump() + "\n", "old.jsonl");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(std::isnan(back[0].metrics[p90]));
  EXPECT_EQ(back[0].metrics[p90 - 1], 0.25);
  // The NaN goes back to points.jsonl as null, and reads back as NaN again.
  EXPECT_TRUE(std::isnan(parse_records(record_line(params, points, back[0]), "new.jsonl")[0].metrics[p90]));

  const auto field = [](const std::string& csv, const std::string& name) {
    std::istringstream in(csv);
    std::string head, row;
    std::getline(in, head);
    std::getline(in, row);
    const auto h = csv_split(head), r = csv_split(row);
    return r.at(std::size_t(std::find(h.begin(), h.end(), name) - h.begin()));
  };
  const std::string runs = runs_csv(params, points, back);
  EXPECT_EQ(field(runs, "ttft_p90_s"), "");
  EXPECT_EQ(field(runs, "ttft_p50_s"), "0.25");
  const std::string sweep = sweep_csv(params, points, 1, back);
  EXPECT_EQ(field(sweep, "ttft_p90_s"), "");
  EXPECT_EQ(field(sweep, "ttft_p99_s"), "0.25");
}

// Plot legends show values, and name keys (by their last component) only when several vary.
TEST(PlotLabels, LegendsShowValuesAndShortNames) {
  EXPECT_EQ(short_names({"scheduler.kv_offload.policy", "workload.arrival.users"}),
            (std::vector<std::string>{"policy", "users"}));
  EXPECT_EQ(short_names({"a.rate", "b.rate", "seed"}), (std::vector<std::string>{"a.rate", "b.rate", "seed"}));
  EXPECT_EQ(series_label({"policy"}, {"swap"}), "swap");
  EXPECT_EQ(series_label({"policy", "users"}, {"swap", "2"}), "policy=swap, users=2");
  EXPECT_EQ(series_label({}, {}), "all");
}

// File names hold only safe characters and stay distinct, even on a case-insensitive file system.
TEST(PlotLabels, FileSlugsAreSafeAndUnique) {
  const auto slugs =
      file_slugs({"swap", "policy=swap, users=2", "20/h", "20_h", "Swap", "", "../x", std::string(80, 'a')});
  EXPECT_EQ(slugs, (std::vector<std::string>{"swap", "policy_swap_users_2", "20_h", "20_h-2", "Swap-2", "_", ".._x",
                                             std::string(60, 'a')}));
  EXPECT_EQ(file_slugs({"a", "a", "a-2"}), (std::vector<std::string>{"a", "a-2", "a-2-2"}));
}

}  // namespace
}  // namespace kvsim::cli
