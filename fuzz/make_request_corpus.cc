// Writes the seeds of request_decoding_fuzzer (fuzz/request_fuzz.h) to
// <dir>/request_decoding/: a well-formed Infer request with a real logreg
// ciphertext, malformed ones, and key-upload streams in and out of order.
//   build-fuzz/fuzz/make_request_corpus fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fuzz/request_fuzz.h"
#include "proto/blindfold/v1/inference.pb.h"
#include "runtime/inference.h"
#include "runtime/plan_io.h"

int main(int argc, char** argv) {
  using namespace blindfold;
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_request_corpus <corpus dir>\n");
    return 2;
  }
  const fs::path dir = fs::path(argv[1]) / "request_decoding";
  fs::create_directories(dir);
  auto write = [&](const char* name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
  };
  auto plan = runtime::ReadPlanFile(BLINDFOLD_SOURCE_DIR "/fuzz/corpus/plan/logreg_latency");
  if (!plan.ok()) return 1;
  auto client = runtime::InferenceClient::Create(*plan);
  if (!client.ok()) return 1;
  auto ct = (*client)->EncryptInput(std::vector<double>(plan->terms[0].dim, 0.25));
  if (!ct.ok()) return 1;

  v1::InferRequest r;
  r.set_model(fuzz::kFuzzModel);
  r.set_key_id(fuzz::kFuzzKeyId);
  r.set_request_id("7");
  r.set_ciphertext(*ct);
  write("infer_valid", "\x01" + r.SerializeAsString());
  write("infer_valid_run", "\x03" + r.SerializeAsString());
  r.set_ciphertext(ct->substr(0, 200));
  write("infer_truncated", "\x01" + r.SerializeAsString());
  r.set_model("no/such model");
  write("infer_bad_model", "\x01" + r.SerializeAsString());

  v1::RegisterKeysRequest header, chunk;
  header.mutable_header()->set_model(fuzz::kFuzzModel);
  header.mutable_header()->set_total_bytes(24);
  chunk.set_chunk(std::string("BFEVKS\0\001", 8) + std::string(16, '\0'));
  write("keys_stream", std::string(1, '\0') + fuzz::Frame(header.SerializeAsString()) +
                           fuzz::Frame(chunk.SerializeAsString()));
  write("keys_out_of_order", std::string(1, '\0') + fuzz::Frame(chunk.SerializeAsString()) +
                                 fuzz::Frame(header.SerializeAsString()));
  return 0;
}
