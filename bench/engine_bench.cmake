# Benchmarks of the CKKS engine (encode/encrypt/evaluator ops/key switching/
# key generation at N = 2^13..2^15), with a quick --summary mode used by
# scripts/run.sh. Included from bench/CMakeLists.txt.
add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cc)
target_link_libraries(engine_bench PRIVATE blindfold_ckks benchmark::benchmark)

# The serialized-size rows need ckks/serialization.cc inside blindfold_ckks;
# until it is there the benchmark prints a placeholder instead.
get_target_property(_bf_ckks_srcs blindfold_ckks SOURCES)
list(FILTER _bf_ckks_srcs INCLUDE REGEX "serialization\\.cc$")
if(_bf_ckks_srcs)
  target_compile_definitions(engine_bench PRIVATE BLINDFOLD_CKKS_HAS_SERIALIZATION=1)
else()
  target_compile_definitions(engine_bench PRIVATE BLINDFOLD_CKKS_HAS_SERIALIZATION=0)
endif()
