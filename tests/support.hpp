// Helpers shared by the tests: memory readings from the OS and byte checks.
#pragma once

#include <varena/arena.hpp>
#include <varena/vm.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <psapi.h>
#endif

// Tests that assert exact positions and sizes skip themselves when every
// block is followed by a debug fence (the test-fences preset).
#define SKIP_IF_FENCED() \
  if (VARENA_FENCES) GTEST_SKIP() << "asserts exact positions; with VARENA_FENCES a fence follows every block"

namespace test {

inline std::size_t page() { return varena::vm::info().page_size; }

// Options whose pushes are not rounded (min_align 1): for tests that assert
// byte-exact positions. The default rounding has tests of its own (push_test).
inline varena::Options byte_exact(varena::Options o = {}) {
  o.min_align = 1;
  return o;
}

inline std::size_t round_up(std::size_t x, std::size_t unit) { return (x + unit - 1) / unit * unit; }

inline bool aligned(const void* p, std::size_t align) {
  return reinterpret_cast<std::uintptr_t>(p) % align == 0;
}

// What a push's OutOfMemory says ("no exception" if it succeeded).
inline std::string failure_of(varena::Arena& arena, std::size_t bytes, std::size_t align = 16) {
  try {
    arena.push(bytes, align);
  } catch (const varena::OutOfMemory& e) {
    return e.what();
  }
  return "no exception";
}

inline bool all_bytes(const void* p, std::size_t n, unsigned char value) {
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i)
    if (c[i] != value) return false;
  return true;
}

inline bool under_qemu();

// Bytes of this process resident in RAM (0 where it cannot be read).
inline std::size_t resident_bytes() {
#if defined(__linux__)
  if (under_qemu()) return 0;
  unsigned long long size = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * page();
#elif defined(_WIN32)
  PROCESS_MEMORY_COUNTERS counters;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &counters, sizeof counters)) return 0;
  return counters.WorkingSetSize;
#else
  return 0;
#endif
}

// Address space this process has mapped or reserved (0 where it cannot be read).
inline std::size_t address_space_bytes() {
#if defined(__linux__)
  if (under_qemu()) return 0;
  unsigned long long size = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%llu", &size) != 1) size = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(size) * page();
#elif defined(_WIN32)
  std::size_t total = 0;
  MEMORY_BASIC_INFORMATION info;
  for (char* p = nullptr; VirtualQuery(p, &info, sizeof info) == sizeof info; p += info.RegionSize) {
    if (info.State != MEM_FREE) total += info.RegionSize;
    if (p + info.RegionSize < p) break;
  }
  return total;
#else
  return 0;
#endif
}

// A reservation no process can get: beyond the 64-bit address space, or
// nearly all of a 32-bit one (the program itself already sits in it).
inline std::size_t more_than_address_space() {
  return sizeof(void*) == 8 ? static_cast<std::size_t>(std::uint64_t{1} << 62) : std::size_t{0xF0000000u};
}

// Lines of /proc/self/maps: the process's memory mappings (Linux; else 0).
inline int mapping_count() {
  int lines = 0;
#if defined(__linux__)
  if (FILE* f = std::fopen("/proc/self/maps", "r")) {
    for (int c; (c = std::fgetc(f)) != EOF;) lines += c == '\n';
    std::fclose(f);
  }
#endif
  return lines;
}

// Lines of /proc/self/maps that overlap [base, base + bytes): the mappings
// of one reservation, whatever the rest of the process (a sanitizer's shadow)
// does meanwhile (Linux; else 0).
inline int mappings_in(const void* base, std::size_t bytes) {
  int count = 0;
#if defined(__linux__)
  const std::uintptr_t lo = reinterpret_cast<std::uintptr_t>(base), hi = lo + bytes;
  if (FILE* f = std::fopen("/proc/self/maps", "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
      unsigned long long from = 0, to = 0;
      if (std::sscanf(line, "%llx-%llx", &from, &to) == 2 && from < hi && to > lo) ++count;
    }
    std::fclose(f);
  }
#else
  (void)base, (void)bytes;
#endif
  return count;
}

// ThreadSanitizer keeps mappings within its application ranges (a few TiB on
// x86-64, placed by ASLR): tests that reserve terabytes cannot count on them.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool under_tsan = true;
#else
inline constexpr bool under_tsan = false;
#endif
#else
inline constexpr bool under_tsan = false;
#endif

inline bool memory_readings_available() { return resident_bytes() != 0; }

// Under a user-mode emulator (qemu, set by tests/CMakeLists.txt) the process
// is the emulator: its memory and address-space readings, its limits and its
// ability to re-run itself (death tests) are not the program's.
inline bool under_qemu() { return std::getenv("VARENA_TEST_EMULATED") != nullptr; }
// Death tests re-execute the test binary, which qemu-user cannot do for a
// foreign one: fork without exec there.
inline const char* death_test_style() { return under_qemu() ? "fast" : "threadsafe"; }

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
inline bool running_under_valgrind() { return RUNNING_ON_VALGRIND != 0; }
#else
inline bool running_under_valgrind() { return false; }
#endif

inline bool running_under_wine() {
#if defined(_WIN32)
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
  return false;
#endif
}

}  // namespace test

#if !defined(_WIN32)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#define VARENA_TEST_HAS_FORK 1
#else
#define VARENA_TEST_HAS_FORK 0
#endif

namespace test {

#if VARENA_TEST_HAS_FORK
// Runs body() in a forked child (so limits set there stay there) and returns
// its exit code: body's return value, or 128 + signal if it died.
template <class Body>
int in_child(Body body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Lowers this process's limit `resource` to `bytes`; false if refused.
inline bool limit(int resource, std::size_t bytes) {
  rlimit r;
  r.rlim_cur = r.rlim_max = static_cast<rlim_t>(bytes);
  return setrlimit(resource, &r) == 0;
}
#endif

#if defined(__linux__)
// A field of /proc/self/status in bytes, e.g. "VmData:" (0 if absent).
inline std::size_t status_bytes(const char* field) {
  std::size_t kib = 0;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    const std::size_t n = std::strlen(field);
    while (std::fgets(line, sizeof line, f))
      if (std::strncmp(line, field, n) == 0) kib = std::strtoull(line + n, nullptr, 10);
    std::fclose(f);
  }
  return kib * 1024;
}
#endif

}  // namespace test
