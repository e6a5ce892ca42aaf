# Cross-compiles for 64-bit ARM Linux with clang (--target=aarch64-linux-gnu)
# over Debian's arm64 cross libraries (libstdc++-12-dev-arm64-cross and its
# libc and libgcc, binutils-aarch64-linux-gnu). Not g++-aarch64-linux-gnu:
# on Debian 12 it conflicts with g++-multilib, which the -m32 build needs.
# Tests run under qemu-aarch64 (Debian qemu-user), whose QEMU_PAGESIZE makes
# the program see 4, 16 or 64 KiB pages (the test-arm64 presets run all three).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER clang)
set(CMAKE_CXX_COMPILER clang++)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
