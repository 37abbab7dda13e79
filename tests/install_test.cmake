# install_test.cmake - run with cmake -P from CTest: install the current build into a scratch prefix,
# then build and run tests/consumer against it twice, once through find_package(effgen) and once through
# pkg-config, as an application outside this tree would.
# Inputs: BUILD_DIR, WORK_DIR, CONSUMER_DIR, LIBDIR, C_COMPILER, GENERATOR, SANITIZE.

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f include/effgen.h ${LIBDIR}/libeffgen.so ${LIBDIR}/cmake/effgen/effgenConfig.cmake
          ${LIBDIR}/pkgconfig/effgen.pc bin/effgen)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()

# A sanitized libeffgen needs the sanitizer runtime loaded first, so its consumers are built with it too.
set(flags "")
if(SANITIZE)
  set(flags "-fsanitize=address,undefined")
endif()

run("configure the find_package consumer" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/cmake-build
    -G ${GENERATOR} -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${prefix} "-DCMAKE_C_FLAGS=${flags}")
run("build the find_package consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/cmake-build)
# the imported target carries the library's location, so the build tree's rpath finds it
run("run the find_package consumer" ${WORK_DIR}/cmake-build/consumer)
message(STATUS "${run_output}")

find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
run("pkg-config" ${PKG_CONFIG} --define-prefix --cflags --libs effgen)
string(STRIP "${run_output}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
message(STATUS "pkg-config flags: ${pc_flags}")
separate_arguments(extra UNIX_COMMAND "${flags}")
run("compile the pkg-config consumer" ${C_COMPILER} ${extra} ${CONSUMER_DIR}/main.c ${pc_flags}
    -o ${WORK_DIR}/pc-consumer)
set(ENV{LD_LIBRARY_PATH} ${prefix}/${LIBDIR})
run("run the pkg-config consumer" ${WORK_DIR}/pc-consumer)
message(STATUS "${run_output}")
