# GPU tests: each exits 77 (skipped) where no driver or device is present.
foreach(t test_gpu_attention test_gpu_runtime test_gpu_variants test_gpu_wgmma)
  add_executable(${t} ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE effgen_static)
  if(NOT t STREQUAL "test_gpu_wgmma" AND NOT t STREQUAL "test_gpu_variants")
    add_test(NAME ${t} COMMAND ${t})
    set_tests_properties(${t} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 900)
  endif()
endforeach()
# The wgmma family's sections as tests of their own, so that ctest -j runs them side by side.
foreach(section main main_fp16 variants bsparse bias mask expr refusals persistent varlen walk)
  add_test(NAME test_gpu_wgmma_${section} COMMAND test_gpu_wgmma ${section})
  set_tests_properties(test_gpu_wgmma_${section} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 900)
endforeach()
foreach(section scalar combos tiles tensor expr)
  add_test(NAME test_gpu_variants_${section} COMMAND test_gpu_variants ${section})
  set_tests_properties(test_gpu_variants_${section} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 900)
endforeach()
# The variants' launch parameters and reference conventions, on the stand-in driver: its host attention
# reads the same FwdParams the kernel does (one run per causal flag, as the mock takes it from the
# environment). The stand-in is a 9.0 device, where the model runs window, softcap, ALiBi and GQA in the
# wg family: the build with the TMA entry point.
foreach(c 0 1)
  add_test(NAME test_variants_mock_c${c} COMMAND test_gpu_variants)
  set_tests_properties(test_variants_mock_c${c} PROPERTIES LABELS cpu TIMEOUT 300 ENVIRONMENT
    "EFFGEN_LIBCUDA=$<TARGET_FILE:mock_cuda_tma>;EFFGEN_MOCK_DTYPE=bf16;EFFGEN_MOCK_CAUSAL=${c}")
endforeach()
# The wgmma family's refusals on the stand-in driver: a device that is not compute capability 9.0, and a
# driver without cuTensorMapEncodeTiled (the stand-in has none). NVRTC compiles the kernel for real first.
foreach(cc 80 90)
  add_test(NAME test_wgmma_mock_cc${cc} COMMAND test_gpu_wgmma)
  set_tests_properties(test_wgmma_mock_cc${cc} PROPERTIES LABELS cpu TIMEOUT 300 ENVIRONMENT
    "EFFGEN_LIBCUDA=$<TARGET_FILE:mock_cuda>;EFFGEN_MOCK_CC=${cc}")
endforeach()
add_executable(test_reference ${CMAKE_CURRENT_SOURCE_DIR}/test_reference.c)
target_link_libraries(test_reference PRIVATE effgen_static)
add_test(NAME test_reference COMMAND test_reference)
set_tests_properties(test_reference PROPERTIES LABELS cpu)
