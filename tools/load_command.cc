// File: tools/load_command.cc
// `blindfold load`: N client threads, each with its own connection and its
// own registered keys, send `requests` Infer calls in total (bounded also by
// --max-seconds), every result decrypted and checked against the plan in
// float64 when --reference-plan is given. Inputs are encrypted before the
// clock starts (a pool per client, reused), so the figures are the calls'.
// Reports calls by status code, requests/s, call latency percentiles, the
// server's own time, and the server's resident memory (from its /metrics)
// after the warm-up and at the end.
//
// --in-process PLAN runs the same ciphertexts through
// runtime::InferenceServer in this process instead (no gRPC, no queue): the
// baseline for the service's overhead.
#include "tools/load_command.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/cpu_features.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "circuits/slot_backend.h"
#include "client/client.h"
#include "client/http_get.h"
#include "data/fashion_mnist.h"
#include "nlohmann/json.hpp"
#include "runtime/inference.h"
#include "runtime/plan_io.h"
#include "tools/client_flags.h"
#include "tools/file_io.h"

namespace blindfold::tools {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct LoadArgs {
  ClientFlags c;
  std::string model, reference_plan, in_process, metrics, paired;
  int clients = 8, requests = 1000, warmup = 100, pool = 8;
  double max_seconds = 600;
  bool json = false;
};

// process_resident_memory_bytes from http://HOST:PORT/metrics, or -1.
double ServerRss(const std::string& hostport) {
  auto r = client::HttpGet(hostport, "/metrics");
  return r.ok() && r->first == 200 ? client::MetricValue(r->second, "process_resident_memory_bytes")
                                   : -1;
}

struct Sample {
  double call_ms, server_ms;
  double local_ms = 0;  // --paired: the same input in-process
};

absl::Status Load(const LoadArgs& a, std::ostream& out, std::ostream& err) {
  if (a.clients < 1 || a.requests < 1 || a.warmup < 0 || a.pool < 1) {
    return absl::InvalidArgumentError("--clients, --requests and --pool must be >= 1");
  }
  if (!a.paired.empty() && (a.clients != 1 || !a.in_process.empty())) {
    return absl::InvalidArgumentError("--paired takes one client and a server");
  }
  const bool local = !a.in_process.empty();
  const auto& test = [&]() -> absl::StatusOr<data::FashionMnist> {
    return data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir), data::Split::kTest);
  };
  BF_ASSIGN_OR_RETURN(data::FashionMnist images, test());
  // Expected classes of the pool images, from the plan in float64.
  std::optional<runtime::Plan> ref;
  const std::string ref_path =
      local ? a.in_process : (a.paired.empty() ? a.reference_plan : a.paired);
  if (!ref_path.empty()) {
    BF_ASSIGN_OR_RETURN(ref, runtime::ReadPlanFile(ref_path));
  }
  auto expected = [&](const std::vector<double>& x) {
    const runtime::Plan& p = *ref;
    circuits::SlotBackend slots(p.slots);
    const auto y = runtime::ExecutePlan(
        slots, p,
        circuits::Tile(runtime::LaidOut(x, p.terms[0].layout, p.terms[0].period),
                       p.terms[0].period, p.slots));
    return ArgMax(runtime::Gathered(y, p.output.layout, p.output.dim));
  };

  // Per client: its session (or in-process client + server) and its pool.
  struct Worker {
    std::unique_ptr<client::Connection> conn;
    std::unique_ptr<client::ModelSession> session;
    std::unique_ptr<runtime::InferenceClient> local_client;
    std::vector<std::string> cts;
    std::vector<int> want;
  };
  std::vector<Worker> workers(a.clients);
  std::unique_ptr<runtime::InferenceServer> local_server;
  client::ConnectionOptions co;
  if (!local) {
    BF_ASSIGN_OR_RETURN(co, ConnectionOptionsFromFlags(a.c));
  }
  err << "load: preparing " << a.clients << " clients (keys" << (local ? "" : ", registration")
      << ", " << a.pool << " encrypted inputs each)\n";
  for (int w = 0; w < a.clients; ++w) {
    Worker& k = workers[w];
    if (local) {
      BF_ASSIGN_OR_RETURN(k.local_client, runtime::InferenceClient::Create(*ref));
      if (w == 0) {
        BF_ASSIGN_OR_RETURN(std::string evk, k.local_client->EvaluationKeys());
        BF_ASSIGN_OR_RETURN(local_server, runtime::InferenceServer::Create(*ref, evk));
      } else {
        // One server, one key set: the other clients share client 0's key.
        BF_ASSIGN_OR_RETURN(k.local_client, runtime::InferenceClient::FromSecretKeyFile(
                                                *ref, workers[0].local_client->SecretKeyFile()));
      }
    } else {
      BF_ASSIGN_OR_RETURN(k.conn, client::Connection::Open(co));
      BF_ASSIGN_OR_RETURN(k.session, client::ModelSession::Open(k.conn.get(), a.model));
      if (!a.paired.empty()) {
        // The same secret key, so the same ciphertexts run in both.
        BF_ASSIGN_OR_RETURN(std::string evk, k.session->crypto().EvaluationKeys());
        BF_ASSIGN_OR_RETURN(local_server, runtime::InferenceServer::Create(*ref, evk));
      }
    }
    for (int i = 0; i < a.pool; ++i) {
      const int image = (w * a.pool + i) % images.count;
      const std::vector<double> x = images.Preprocessed(image);
      const runtime::InferenceClient& c = local ? *k.local_client : k.session->crypto();
      BF_ASSIGN_OR_RETURN(std::string ct, c.EncryptInput(x));
      k.cts.push_back(std::move(ct));
      k.want.push_back(ref ? expected(x) : -1);
    }
  }

  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<Sample> samples;  // measured calls (after warm-up)
  std::map<std::string, int> codes;
  int wrong = 0;
  double rss_after_warmup = -1, rss_peak = -1;
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           static_cast<int64_t>(a.max_seconds * 1e3));
  const int total = a.warmup + a.requests;
  Clock::time_point measure_start;
  std::atomic<bool> measuring{a.warmup == 0};
  if (a.warmup == 0) measure_start = Clock::now();
  auto note_warm = [&] {
    if (!a.metrics.empty()) rss_after_warmup = ServerRss(a.metrics);
    measure_start = Clock::now();
    measuring = true;
  };
  if (a.warmup == 0) note_warm();
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done && !a.metrics.empty()) {
      const double r = ServerRss(a.metrics);
      {
        std::lock_guard<std::mutex> lock(mu);
        rss_peak = std::max(rss_peak, r);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  std::vector<std::thread> threads;
  std::atomic<int> finished_warmup{0};
  for (int w = 0; w < a.clients; ++w) {
    threads.emplace_back([&, w] {
      Worker& k = workers[w];
      for (int n = 0;; ++n) {
        const int i = next.fetch_add(1);
        if (i >= total || Clock::now() > deadline) break;
        const size_t slot = static_cast<size_t>(n) % k.cts.size();
        const bool counted = i >= a.warmup;
        absl::StatusOr<std::string> result;
        double server_s = 0, local_ms = 0;
        // --paired: the in-process run of the same input, before the call
        // on even turns and after it on odd ones.
        auto run_local = [&] {
          const auto t0 = Clock::now();
          auto r = local_server->Run(k.cts[slot]);
          local_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (!r.ok()) result = r.status();
        };
        if (!a.paired.empty() && n % 2 == 0) run_local();
        const auto t = Clock::now();
        if (local) {
          runtime::RunStats stats;
          result = local_server->Run(k.cts[slot], &stats);
          server_s = stats.seconds;
        } else {
          blindfold::v1::InferRequest req;
          req.set_model(a.model);
          req.set_key_id(k.session->key_id());
          req.set_ciphertext(k.cts[slot]);
          auto resp = k.conn->Infer(req);
          if (resp.ok()) {
            server_s = resp->server_seconds();
            result = std::move(*resp->mutable_ciphertext());
          } else {
            result = resp.status();
          }
        }
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
        if (!a.paired.empty() && n % 2 == 1 && result.ok()) run_local();
        bool bad = false;
        if (result.ok() && k.want[slot] >= 0) {
          const runtime::InferenceClient& c = local ? *k.local_client : k.session->crypto();
          auto y = c.DecryptOutput(*result);
          bad = !y.ok() || ArgMax(*y) != k.want[slot];
        }
        std::lock_guard<std::mutex> lock(mu);
        ++codes[result.ok() ? "OK" : absl::StatusCodeToString(result.status().code())];
        wrong += bad;
        if (result.ok() && counted) samples.push_back({ms, server_s * 1e3, local_ms});
        if (i + 1 == a.warmup && ++finished_warmup == 1) note_warm();
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - measure_start).count();
  const double rss_end = a.metrics.empty() ? -1 : ServerRss(a.metrics);
  done = true;
  sampler.join();

  std::vector<double> call_ms, server_ms, local_ms, ratio, outside_ms;
  for (const Sample& s : samples) {
    call_ms.push_back(s.call_ms);
    server_ms.push_back(s.server_ms);
    outside_ms.push_back(s.call_ms - s.server_ms);
    if (!a.paired.empty()) {
      local_ms.push_back(s.local_ms);
      ratio.push_back(s.call_ms / s.local_ms);
    }
  }
  int64_t retries = 0;  // calls retried by the clients (UNAVAILABLE, queue full)
  for (const Worker& k : workers) retries += k.conn ? k.conn->retries() : 0;
  int sent = 0, errors = 0;
  for (const auto& [code, n] : codes) {
    sent += n;
    if (code != "OK") errors += n;
  }
  json j = {{"mode", local ? "in-process" : "service"},
            {"model", local ? ref->model : a.model},
            {"clients", a.clients},
            {"warmup", a.warmup},
            {"requests_sent", sent},
            {"measured", samples.size()},
            {"codes", codes},
            {"errors", errors},
            {"retries", retries},
            {"wrong_results", wrong},
            {"seconds", seconds},
            {"requests_per_second", seconds > 0 ? samples.size() / seconds : 0.0},
            {"latency_ms",
             {{"p50", Percentile(call_ms, 0.5)},
              {"p90", Percentile(call_ms, 0.9)},
              {"p99", Percentile(call_ms, 0.99)},
              {"max", Percentile(call_ms, 1.0)}}},
            {"server_ms", {{"p50", Percentile(server_ms, 0.5)}, {"p99", Percentile(server_ms, 0.99)}}},
            // Everything but the plan's run: gRPC, transfer, token, key
            // lookup, queue hand-off.
            {"outside_run_ms",
             {{"p50", Percentile(outside_ms, 0.5)}, {"p99", Percentile(outside_ms, 0.99)}}},
            {"threads", ThreadCount()},
            {"kernel", std::string(KernelPathName(ActiveKernelPath()))}};
  if (!a.paired.empty()) {
    j["in_process_ms"] = {{"p50", Percentile(local_ms, 0.5)},
                          {"p90", Percentile(local_ms, 0.9)},
                          {"p99", Percentile(local_ms, 0.99)}};
    j["overhead_p50_percent"] =
        100 * (Percentile(call_ms, 0.5) / Percentile(local_ms, 0.5) - 1);
    j["median_pair_ratio"] = Percentile(ratio, 0.5);
  }
  if (!a.metrics.empty()) {
    j["server_rss_mb"] = {{"after_warmup", rss_after_warmup / (1 << 20)},
                          {"end", rss_end / (1 << 20)},
                          {"peak", rss_peak / (1 << 20)}};
  }
  if (a.json) {
    out << j.dump() << "\n";
  } else {
    out << absl::StrFormat(
        "%s %s: %d clients, %d requests sent (%d warm-up), %d errors, %d wrong results\n",
        j["mode"].get<std::string>(), j["model"].get<std::string>(), a.clients, sent, a.warmup,
        errors, wrong);
    for (const auto& [code, n] : codes) out << "  " << code << ": " << n << "\n";
    out << absl::StrFormat(
        "%.1f requests/s; call latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; "
        "server time p50 %.1f ms; outside the run p50 %.2f ms\n",
        j["requests_per_second"].get<double>(), Percentile(call_ms, 0.5),
        Percentile(call_ms, 0.9), Percentile(call_ms, 0.99), Percentile(call_ms, 1.0),
        Percentile(server_ms, 0.5), Percentile(outside_ms, 0.5));
    if (!a.paired.empty()) {
      out << absl::StrFormat(
          "in-process, same inputs, interleaved: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms; "
          "service overhead at p50 %+.1f %% (median per-pair ratio %.3f)\n",
          Percentile(local_ms, 0.5), Percentile(local_ms, 0.9), Percentile(local_ms, 0.99),
          j["overhead_p50_percent"].get<double>(), Percentile(ratio, 0.5));
    }
    if (!a.metrics.empty()) {
      out << absl::StrFormat("server RSS: %.1f MB after warm-up, %.1f MB at the end, peak %.1f MB\n",
                             rss_after_warmup / (1 << 20), rss_end / (1 << 20),
                             rss_peak / (1 << 20));
    }
  }
  if (wrong > 0) {
    return absl::DataLossError(absl::StrCat(wrong, " results decrypted to the wrong class"));
  }
  return absl::OkStatus();
}

}  // namespace

std::function<absl::Status(std::ostream&, std::ostream&, bool)> AddLoadCommand(CLI::App& app) {
  auto a = std::make_shared<LoadArgs>();
  CLI::App* l = app.add_subcommand(
      "load", "Load test: concurrent clients sending encrypted requests to a server "
              "(or the same work in-process)");
  AddClientFlags(l, &a->c);
  l->add_option("--model", a->model, "model name on the server");
  l->add_option("--clients", a->clients, "concurrent clients (each with its own keys)")
      ->capture_default_str();
  l->add_option("--requests", a->requests, "measured requests, all clients together")
      ->capture_default_str();
  l->add_option("--warmup", a->warmup, "requests before measuring")->capture_default_str();
  l->add_option("--pool", a->pool, "encrypted inputs per client, reused in turn")
      ->capture_default_str();
  l->add_option("--max-seconds", a->max_seconds, "stop sending after this long")
      ->capture_default_str();
  l->add_option("--reference-plan", a->reference_plan,
                "the server's plan file: check every result's class against it in float64");
  l->add_option("--metrics", a->metrics,
                "the server's metrics HOST:PORT: report its resident memory");
  l->add_option("--in-process", a->in_process,
                "run this plan in this process instead of calling a server (baseline)");
  l->add_option("--paired", a->paired,
                "the server's plan file: run every input in-process too, interleaved with "
                "the calls (one client), and report the service's overhead");
  l->add_flag("--json", a->json, "print one JSON object");
  return [=](std::ostream& out, std::ostream& err, bool) -> absl::Status {
    if (!l->parsed()) return absl::NotFoundError("no load subcommand");
    if (a->in_process.empty() && a->model.empty()) {
      return absl::InvalidArgumentError("--model is required (or --in-process PLAN)");
    }
    return Load(*a, out, err);
  };
}

}  // namespace blindfold::tools
