// Helpers shared by the tests: memory readings from the OS and byte checks.
#pragma once

#include <varena/vm.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

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

namespace test {

inline std::size_t page() { return varena::vm::info().page_size; }

inline std::size_t round_up(std::size_t x, std::size_t unit) { return (x + unit - 1) / unit * unit; }

inline bool aligned(const void* p, std::size_t align) {
  return reinterpret_cast<std::uintptr_t>(p) % align == 0;
}

inline bool all_bytes(const void* p, std::size_t n, unsigned char value) {
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i)
    if (c[i] != value) return false;
  return true;
}

// Bytes of this process resident in RAM (0 where it cannot be read).
inline std::size_t resident_bytes() {
#if defined(__linux__)
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

inline bool memory_readings_available() { return resident_bytes() != 0; }

}  // namespace test
