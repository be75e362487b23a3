// File: compiler/onnx/hostile_models.h
// Hostile ONNX models, one or more per class of shape-arithmetic attack the
// importer must reject (issue 7, finding 9): overflowing Conv pads, strides
// and dilations, Reshape targets whose product wraps or that are not whole
// numbers, ranks, broadcasts, work and graph sizes past the caps, empty
// operands, pool pads as large as the kernel, too many nodes. The ONNX
// fuzzer's seed corpus (fuzz/corpus/onnx_import/hostile_*) is written from
// them by fuzz/make_onnx_corpus.cc, and importer_test.cc checks that each is
// rejected with its expected error. Not part of the importer.
#ifndef BLINDFOLD_COMPILER_ONNX_HOSTILE_MODELS_H_
#define BLINDFOLD_COMPILER_ONNX_HOSTILE_MODELS_H_

#include <string>
#include <vector>

namespace blindfold::compiler {

struct HostileModel {
  std::string name;   // file name without the "hostile_" prefix
  std::string bytes;  // a serialized ModelProto
  std::string error;  // a part of ImportOnnx's error (names node or cap)
};

std::vector<HostileModel> HostileOnnxModels();

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_ONNX_HOSTILE_MODELS_H_
