# Microbenchmarks of the math layer (NTT and element-wise kernels, both
# kernel paths). Included from bench/CMakeLists.txt.
add_executable(math_bench ${CMAKE_CURRENT_LIST_DIR}/math_bench.cc)
target_link_libraries(math_bench PRIVATE blindfold_math benchmark::benchmark
  benchmark::benchmark_main)
