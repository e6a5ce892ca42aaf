# Run by CTest: builds varena as a shared library (-DBUILD_SHARED_LIBS=ON),
# installs it, and checks what an FFI user relies on: a SONAME, only the
# public API exported, Python's ctypes driving the C API, and the CMake
# package and pkg-config working for this flavour too.
# Inputs: VARENA_SOURCE_DIR, WORK_DIR, GENERATOR, C_COMPILER, CXX_COMPILER, PYTHON.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(build ${WORK_DIR}/build)
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${VARENA_SOURCE_DIR} -B ${build} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=ON -DVARENA_BUILD_TESTS=OFF -DVARENA_BUILD_EXAMPLES=OFF -DVARENA_INSTALL=ON
    -DVARENA_WERROR=ON -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${build})
run(${CMAKE_COMMAND} --install ${build} --prefix ${prefix})
file(GLOB_RECURSE libs ${prefix}/*/libvarena.so)
if(NOT libs)
  message(FATAL_ERROR "no libvarena.so installed under ${prefix}")
endif()
list(GET libs 0 lib)

find_program(OBJDUMP objdump)
if(OBJDUMP)
  run(${OBJDUMP} -p ${lib})
  if(NOT output MATCHES "SONAME +libvarena\\.so\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "libvarena.so has no versioned SONAME:\n${output}")
  endif()
endif()

# Every exported definition must be the public API: C functions, or members
# and typeinfo of namespace varena (the out-of-line halves of its classes).
find_program(NM nm)
if(NM)
  run(${NM} -D --defined-only -C ${lib})
  string(REPLACE "\n" ";" symbols "${output}")
  set(stray "")
  set(count 0)
  foreach(line IN LISTS symbols)
    if(line STREQUAL "")
      continue()
    endif()
    math(EXPR count "${count} + 1")
    string(REGEX REPLACE "^[0-9a-f]* *[A-Za-z] " "" name "${line}")
    if(NOT name MATCHES "^(varena_|varena::|typeinfo for varena::|typeinfo name for varena::|vtable for varena::)")
      list(APPEND stray "${name}")
    endif()
  endforeach()
  if(stray)
    list(JOIN stray "\n  " text)
    message(FATAL_ERROR "libvarena.so exports more than the public API:\n  ${text}")
  endif()
  message(STATUS "${count} exported symbols, all public API")
endif()

run(${PYTHON} ${CMAKE_CURRENT_LIST_DIR}/ctypes_check.py ${lib})
message(STATUS "${output}")

# The CMake package, the shared flavour.
run(${CMAKE_COMMAND} -S ${VARENA_SOURCE_DIR}/tests/package -B ${WORK_DIR}/package -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DVARENA_CONSUME=package -DVARENA_SOURCE_DIR=${VARENA_SOURCE_DIR})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/package)
run(${WORK_DIR}/package/consumer)

# pkg-config, linking the shared library.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  get_filename_component(libdir ${lib} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${libdir}/pkgconfig)
  run(sh -c "${C_COMPILER} -std=c99 -o ${WORK_DIR}/c_consumer ${CMAKE_CURRENT_LIST_DIR}/prog.c $(${PKG_CONFIG} --cflags --libs varena) -Wl,-rpath,${libdir}")
  run(${WORK_DIR}/c_consumer)
endif()
