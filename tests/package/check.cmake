# Run by CTest: installs the built varena into a scratch prefix and builds a
# separate project against it, then the same project through add_subdirectory.
# Inputs: VARENA_BINARY_DIR, VARENA_SOURCE_DIR, WORK_DIR, GENERATOR, BUILD_TYPE,
# CXX_COMPILER, CXX_FLAGS (the consumer is built the way varena was: -m32...),
# EMULATOR (what runs the build's programs, if this machine cannot: qemu-i386).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${VARENA_BINARY_DIR} --prefix ${prefix} --config ${BUILD_TYPE})
foreach(mode package subdirectory)
  set(build ${WORK_DIR}/${mode})
  run(${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR} -B ${build} -G ${GENERATOR}
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      -DVARENA_CONSUME=${mode} -DVARENA_SOURCE_DIR=${VARENA_SOURCE_DIR})
  run(${CMAKE_COMMAND} --build ${build})
  run(${EMULATOR} ${build}/consumer)
  message(STATUS "${mode}: consumer built and ran")
endforeach()
