# Tests of a build this machine may not run natively. A -m32 build runs
# natively only where the kernel has IA-32 emulation; some hosts and
# containers switch it off ("Exec format error"). So: build a tiny program,
# try to run it, and if the kernel refuses, run every test under qemu-i386
# (Debian qemu-user) instead. VARENA_FORCE_EMULATOR=ON takes that path even
# where the native run works, so it can be tested anywhere.
if(CMAKE_CROSSCOMPILING OR CMAKE_CROSSCOMPILING_EMULATOR OR NOT CMAKE_SIZEOF_VOID_P EQUAL 4
   OR NOT CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  return()
endif()
option(VARENA_FORCE_EMULATOR "Run the 32-bit tests under qemu-i386 even where the kernel runs them" OFF)

set(probe_dir ${CMAKE_BINARY_DIR}/m32-probe)
file(WRITE ${probe_dir}/probe.cpp "#include <cstdio>\nint main() { std::puts(\"runs\"); return 0; }\n")
try_compile(probe_built ${probe_dir}/build ${probe_dir}/probe.cpp COPY_FILE ${probe_dir}/probe OUTPUT_VARIABLE log)
if(NOT probe_built)
  message(FATAL_ERROR "cannot build a 32-bit program (install g++-multilib):\n${log}")
endif()

set(native_output "")
if(NOT VARENA_FORCE_EMULATOR)
  execute_process(COMMAND ${probe_dir}/probe RESULT_VARIABLE native_rc OUTPUT_VARIABLE native_output ERROR_QUIET)
endif()
if(native_output MATCHES "runs")
  return()
endif()

find_program(VARENA_QEMU_I386 NAMES qemu-i386 qemu-i386-static)
if(VARENA_QEMU_I386)
  execute_process(COMMAND ${VARENA_QEMU_I386} ${probe_dir}/probe RESULT_VARIABLE qemu_rc OUTPUT_VARIABLE qemu_output
    ERROR_QUIET)
endif()
if(NOT qemu_output MATCHES "runs")
  message(FATAL_ERROR "this kernel does not run 32-bit programs and qemu-i386 cannot either: "
    "install qemu-user (Debian) or build 64-bit")
endif()
if(VARENA_FORCE_EMULATOR)
  message(STATUS "VARENA_FORCE_EMULATOR: 32-bit tests run under ${VARENA_QEMU_I386}")
else()
  message(STATUS "this kernel does not run 32-bit programs: tests run under ${VARENA_QEMU_I386}")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${VARENA_QEMU_I386})
