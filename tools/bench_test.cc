// File: tools/bench_test.cc
// `blindfold bench --quick --json` as CI runs it: the real binary, every
// configuration of the quick model encrypted end to end (each server in a
// child process), and the JSON it prints: its shape, the baseline and the
// optimized plan agreeing with the plaintext plan on every image, and the
// facts that separate them (key switches, key set, parameters). No timing
// is asserted. Also the bench's errors for bad flags.
#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace blindfold::tools {
namespace {

using nlohmann::json;

// Runs the CLI; returns its stdout, and its exit status in *status.
std::string RunCli(const std::string& args, int* status) {
  const std::string cmd = std::string(BLINDFOLD_CLI_PATH) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}

TEST(BenchTest, QuickRunMeasuresEveryConfigurationAndAgreesWithPlaintext) {
  int status = 0;
  const std::string out = RunCli(std::string("bench --quick --json --models-dir ") +
                                     BLINDFOLD_SOURCE_DIR + "/models",
                                 &status);
  ASSERT_EQ(status, 0) << out;
  const json j = json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  for (const char* k : {"date", "cpu", "kernel", "threads", "images", "models"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  ASSERT_TRUE(j["models"].contains("mlp"));
  const json& rows = j["models"]["mlp"];
  const char* configs[] = {"baseline",        "optimized",         "no-fusion",
                           "no-input-layout", "no-level-planning", "no-bsgs",
                           "no-param-selection", "no-minimal-keys"};
  for (const char* c : configs) {
    ASSERT_TRUE(rows.contains(c)) << c;
    const json& r = rows[c];
    ASSERT_FALSE(r.contains("skipped")) << c << ": " << r["skipped"];
    ASSERT_FALSE(r.contains("error")) << c << ": " << r["error"];
    ASSERT_TRUE(r.contains("latency_ms")) << c;
    EXPECT_GT(r["latency_ms"]["p50"].get<double>(), 0) << c;
    EXPECT_GE(r["latency_ms"]["p90"].get<double>(), r["latency_ms"]["p50"].get<double>()) << c;
    for (const char* k : {"encrypt_ms", "decrypt_ms", "peak_rss_mb", "eval_key_bytes",
                          "input_bytes", "output_bytes"}) {
      ASSERT_TRUE(r.contains(k)) << c << " " << k;
      EXPECT_GT(r[k].get<double>(), 0) << c << " " << k;
    }
    EXPECT_EQ(r["agreement"].get<double>(), 1.0) << c;
    EXPECT_GE(r["agreement_images"].get<int>(), 1) << c;
    EXPECT_LT(r["max_logit_error"].get<double>(), 1e-2) << c;
    ASSERT_TRUE(r["by_threads"].contains("1")) << c;
    // The server performed the key switches the plan says it does.
    EXPECT_EQ(r["key_switches_measured"].get<int64_t>(),
              r["plan"]["key_switches"].get<int64_t>())
        << c;
  }
  // mlp's first layer is dense: no client-side layout to turn off.
  EXPECT_EQ(rows["no-input-layout"].value("same_as", ""), "optimized");
  const json& base = rows["baseline"]["plan"];
  const json& opt = rows["optimized"]["plan"];
  EXPECT_EQ(base["log_n"].get<int>(), 15);
  EXPECT_EQ(base["rotation_keys"].get<int>(), 27);
  EXPECT_TRUE(base["power_of_two_rotations"].get<bool>());
  EXPECT_FALSE(base["hoist"].get<bool>());
  EXPECT_TRUE(base["eager_rescale"].get<bool>());
  EXPECT_EQ(base["hoisted_rotations"].get<int>(), 0);
  EXPECT_GT(base["key_switches"].get<int64_t>(), 5 * opt["key_switches"].get<int64_t>());
  EXPECT_GT(base["levels_used"].get<int>(), opt["levels_used"].get<int>());
  EXPECT_GT(rows["baseline"]["eval_key_bytes"].get<double>(),
            10 * rows["optimized"]["eval_key_bytes"].get<double>());
}

TEST(BenchTest, BadFlagsAreRefusedByName) {
  int status = 0;
  std::string out = RunCli("bench --configs optimized,no-hoisting --models logreg", &status);
  EXPECT_NE(status, 0);
  const std::string cmd = std::string(BLINDFOLD_CLI_PATH) +
                          " bench --configs no-hoisting --models logreg 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  out.clear();
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_NE(pclose(p), 0);
  EXPECT_NE(out.find("unknown configuration 'no-hoisting'"), std::string::npos) << out;
  EXPECT_NE(out.find("no-minimal-keys"), std::string::npos) << out;
  RunCli("bench --threads 0 --models logreg", &status);
  EXPECT_NE(status, 0);
  RunCli("compile " + std::string(BLINDFOLD_SOURCE_DIR) +
             "/models/logreg/logreg.onnx -o /dev/null --disable fusion,hoisting",
         &status);
  EXPECT_NE(status, 0);
}

}  // namespace
}  // namespace blindfold::tools
