# Helpers that keep every folder's CMakeLists.txt to a few lines.
#
#   blindfold_library(NAME SRCS a.cc b.cc DEPS other_lib)
#   blindfold_test(NAME SRCS a_test.cc DEPS lib)   -- a gtest binary run by ctest
#   blindfold_test(... BOTH_KERNELS)   -- also run whole with BLINDFOLD_KERNEL=portable
#                                         and BLINDFOLD_KERNEL=avx2 (=neon in aarch64
#                                         builds), so every path is tested on an IFMA
#                                         machine; a run whose path the CPU lacks is
#                                         reported as skipped
#
# Includes are written from the source root ("ckks/evaluator.h").

function(blindfold_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(blindfold_test name)
  if(NOT BLINDFOLD_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "BOTH_KERNELS" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS}
    ${PROJECT_SOURCE_DIR}/base/kernel_test_env.cc)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} blindfold_base GTest::gtest GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
  if(ARG_BOTH_KERNELS)
    add_test(NAME ${name}_portable_kernels COMMAND ${name})
    set_tests_properties(${name}_portable_kernels PROPERTIES
      ENVIRONMENT BLINDFOLD_KERNEL=portable TIMEOUT ${ARG_TIMEOUT})
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
      add_test(NAME ${name}_neon_kernels COMMAND ${name})
      set_tests_properties(${name}_neon_kernels PROPERTIES
        ENVIRONMENT BLINDFOLD_KERNEL=neon TIMEOUT ${ARG_TIMEOUT}
        SKIP_REGULAR_EXPRESSION "lacks NEON")
    else()
      add_test(NAME ${name}_avx2_kernels COMMAND ${name})
      set_tests_properties(${name}_avx2_kernels PROPERTIES
        ENVIRONMENT BLINDFOLD_KERNEL=avx2 TIMEOUT ${ARG_TIMEOUT}
        SKIP_REGULAR_EXPRESSION "lacks AVX2")
    endif()
  endif()
endfunction()
