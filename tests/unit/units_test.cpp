// The unit parser: every dimension, binary vs decimal prefixes, and the errors for bad strings.
#include <gtest/gtest.h>

#include "engine/units.hpp"

namespace kvsim {
namespace {

double ok(const char* text, Dim dim) {
  auto q = parse_quantity(text, dim);
  EXPECT_TRUE(q.value.has_value()) << text << ": " << q.error;
  return q.value.value_or(-1);
}

std::string bad(const char* text, Dim dim) {
  auto q = parse_quantity(text, dim);
  EXPECT_FALSE(q.value.has_value()) << text << " parsed as " << q.value.value_or(0);
  return q.error;
}

TEST(Units, BytesDecimalAndBinary) {
  EXPECT_DOUBLE_EQ(ok("80GiB", Dim::kBytes), 80.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(ok("68GB", Dim::kBytes), 68e9);
  EXPECT_DOUBLE_EQ(ok("512B", Dim::kBytes), 512);
  EXPECT_DOUBLE_EQ(ok(" 1.5 TiB ", Dim::kBytes), 1.5 * 1099511627776.0);
  EXPECT_DOUBLE_EQ(ok("2e3kB", Dim::kBytes), 2e6);
}

TEST(Units, BandwidthBytesAndBits) {
  EXPECT_DOUBLE_EQ(ok("2.039TBps", Dim::kBandwidth), 2.039e12);
  EXPECT_DOUBLE_EQ(ok("20GB/s", Dim::kBandwidth), 20e9);
  EXPECT_DOUBLE_EQ(ok("64Gbps", Dim::kBandwidth), 8e9);  // bits
  EXPECT_DOUBLE_EQ(ok("1GiBps", Dim::kBandwidth), 1073741824.0);
}

TEST(Units, FlopsAndRates) {
  EXPECT_DOUBLE_EQ(ok("312Tf", Dim::kFlopRate), 312e12);
  EXPECT_DOUBLE_EQ(ok("312TFLOPS", Dim::kFlopRate), 312e12);
  EXPECT_DOUBLE_EQ(ok("1.5Pflop/s", Dim::kFlopRate), 1.5e15);
  EXPECT_DOUBLE_EQ(ok("4.63PFLOP", Dim::kFlops), 4.63e15);
}

TEST(Units, Times) {
  EXPECT_DOUBLE_EQ(ok("60s", Dim::kTime), 60);
  EXPECT_DOUBLE_EQ(ok("500ms", Dim::kTime), 0.5);
  EXPECT_DOUBLE_EQ(ok("2min", Dim::kTime), 120);
  EXPECT_DOUBLE_EQ(ok("1h", Dim::kTime), 3600);
  EXPECT_DOUBLE_EQ(ok("1d", Dim::kTime), 86400);
  EXPECT_DOUBLE_EQ(ok("3us", Dim::kTime), 3e-6);
}

TEST(Units, RatesTokensCountsRatios) {
  EXPECT_DOUBLE_EQ(ok("36/h", Dim::kRate), 0.01);
  EXPECT_DOUBLE_EQ(ok("0.5/s", Dim::kRate), 0.5);
  EXPECT_DOUBLE_EQ(ok("6tok/s", Dim::kTokenRate), 6);
  EXPECT_DOUBLE_EQ(ok("50K", Dim::kTokens), 50000);
  EXPECT_DOUBLE_EQ(ok("4K", Dim::kTokens), 4000);  // the paper's 4K is 4000 tokens (Eq. 2)
  EXPECT_DOUBLE_EQ(ok("1M", Dim::kTokens), 1e6);
  EXPECT_DOUBLE_EQ(ok("4096", Dim::kTokens), 4096);
  EXPECT_DOUBLE_EQ(ok("34B", Dim::kCount), 34e9);
  EXPECT_DOUBLE_EQ(ok("70%", Dim::kRatio), 0.7);
  EXPECT_DOUBLE_EQ(ok("0.7", Dim::kRatio), 0.7);
}

TEST(Units, RejectsMissingOrWrongUnits) {
  EXPECT_NE(bad("80", Dim::kBytes).find("has no unit"), std::string::npos);
  EXPECT_NE(bad("60s", Dim::kBandwidth).find("does not fit"), std::string::npos);  // a bandwidth in seconds
  EXPECT_NE(bad("2TBps", Dim::kBytes).find("expected bytes"), std::string::npos);
  EXPECT_NE(bad("fast", Dim::kTime).find("does not start with a number"), std::string::npos);
  EXPECT_NE(bad("", Dim::kTime).find("does not start with a number"), std::string::npos);
  bad("10 GiB extra", Dim::kBytes);
  bad("1e999GB", Dim::kBytes);  // overflow is not a number we accept
  bad("nanGB", Dim::kBytes);
  bad("5 apples", Dim::kCount);
  bad("3/fortnight", Dim::kRate);
}

TEST(Units, SaysWhenANumberIsBeyondADoubleOrNotFinite) {
  EXPECT_NE(bad("1e400GBps", Dim::kBandwidth).find("'1e400GBps' is outside the range of a double"), std::string::npos);
  EXPECT_NE(bad("1e-400s", Dim::kTime).find("outside the range of a double"), std::string::npos);
  // The number fits a double, its value in bytes per second does not.
  EXPECT_NE(bad("1e308TBps", Dim::kBandwidth).find("outside the range of a double"), std::string::npos);
  EXPECT_NE(bad("inf", Dim::kTime).find("'inf' is not a finite number"), std::string::npos);
  EXPECT_NE(bad("-infs", Dim::kTime).find("is not a finite number"), std::string::npos);
}

TEST(Units, ParseOrThrowCarriesTheMessage) {
  EXPECT_THROW(parse_or_throw("12", Dim::kTime), std::invalid_argument);
  EXPECT_DOUBLE_EQ(parse_or_throw("12s", Dim::kTime), 12);
}

TEST(Units, FormattingSaysWhichPrefix) {
  EXPECT_EQ(format_bytes(12.288e9), "12.29 GB");
  EXPECT_EQ(format_bytes_binary(12.288e9), "11.44 GiB");
  EXPECT_EQ(format_seconds(14.836), "14.84 s");
  EXPECT_EQ(format_bandwidth(31.5e9), "31.5 GB/s");
}

}  // namespace
}  // namespace kvsim
