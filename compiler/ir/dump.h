// File: compiler/ir/dump.h
// A stable, line-oriented text form of a graph, for reading (`blindfold
// inspect`) and for golden tests. Constants are summarised (shape, count,
// range), scalars printed in full.
#ifndef BLINDFOLD_COMPILER_IR_DUMP_H_
#define BLINDFOLD_COMPILER_IR_DUMP_H_

#include <string>

#include "compiler/ir/graph.h"

namespace blindfold::compiler::ir {

// Returns the text form of `graph`, e.g.
//   graph logreg
//   input %image [1,1,28,28]
//   const %w [10,784] (7840 values in [-0.41, 0.39])
//   %y [1,10] = Gemm(%x, %w, %b) {transB=1} name=/1/Gemm
//   output %y [1,10]
std::string DumpGraph(const Graph& graph);

}  // namespace blindfold::compiler::ir

#endif  // BLINDFOLD_COMPILER_IR_DUMP_H_
