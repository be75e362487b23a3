# Server compute of encrypted inference per shipped model and packing mode
# (docs/inference-benchmarks.md). Needs the front end (ONNX, compiler, data).
if(BLINDFOLD_BUILD_FRONTEND)
  add_executable(inference_bench ${CMAKE_CURRENT_LIST_DIR}/inference_bench.cc)
  target_link_libraries(inference_bench PRIVATE blindfold_lower blindfold_inference
                        blindfold_onnx_frontend blindfold_data benchmark::benchmark)
  target_compile_definitions(inference_bench PRIVATE
    BLINDFOLD_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
