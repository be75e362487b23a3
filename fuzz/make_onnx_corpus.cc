// Writes the hostile seeds of the ONNX importer fuzzer: one file per model
// of compiler/onnx/hostile_models.h, as <dir>/onnx_import/hostile_<name>.
// Each must be rejected by the importer with its expected error; the tool
// fails otherwise. Usage (see fuzz/README.md):
//   build-fuzz/fuzz/make_onnx_corpus fuzz/corpus
// The models are fixed, so every run writes the same bytes.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/onnx/hostile_models.h"
#include "compiler/onnx/importer.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = fs::path(argv[1]) / "onnx_import";
  fs::create_directories(dir);
  for (const auto& m : blindfold::compiler::HostileOnnxModels()) {
    const auto g = blindfold::compiler::ImportOnnx(m.bytes);
    if (g.ok() ||
        std::string(g.status().message()).find(m.error) == std::string::npos) {
      std::fprintf(stderr, "make_onnx_corpus: %s: expected an error with '%s', got %s\n",
                   m.name.c_str(), m.error.c_str(),
                   g.ok() ? "a graph" : std::string(g.status().message()).c_str());
      return 1;
    }
    const fs::path path = dir / ("hostile_" + m.name);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(m.bytes.data(), static_cast<std::streamsize>(m.bytes.size()));
    if (!f) {
      std::fprintf(stderr, "make_onnx_corpus: cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("onnx_import  hostile_%-26s %7zu bytes\n", m.name.c_str(),
                m.bytes.size());
  }
  return 0;
}
