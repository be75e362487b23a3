# Benchmarks of the CKKS engine (encode/encrypt/evaluator ops/key switching/
# key generation at N = 2^13..2^15), with a quick --summary mode used by
# scripts/run.sh. Included from bench/CMakeLists.txt.
add_executable(engine_bench ${CMAKE_CURRENT_LIST_DIR}/engine_bench.cc)
target_link_libraries(engine_bench PRIVATE blindfold_ckks benchmark::benchmark)

