// OS fault injection for tests: makes the Nth call of the platform layer fail
// as the OS would (the primitive returns its failure value and does nothing).
// Compiled in only where VARENA_FAULT_INJECTION is 1 -- the library the tests
// link, never the one users install -- and free otherwise: the check is a
// constant false that the compiler removes.
#pragma once

#include <cstddef>

#ifndef VARENA_FAULT_INJECTION
#define VARENA_FAULT_INJECTION 0
#endif

namespace varena::detail {

enum class OsCall : unsigned {
  reserve = 1, commit = 2, decommit = 4, release = 8, protect = 16,
  // The file primitives (detail/file_map.hpp); mapping a file's range counts
  // as reserve's sibling, committing, decommitting and unmapping it as
  // commit, decommit and release.
  file_io = 32,     // open, close, size, read and write of a file
  grow_file = 64,   // allocate_file, resize_file
  map_file = 128,   // map_file
  sync = 256,       // flush_file, sync_file
  // The copy-on-write primitives (detail/cow_map.hpp): creating the
  // anonymous file, freezing it and reverting to it. Their commits and
  // decommits count as commit and decommit.
  snapshot = 512
};

#if VARENA_FAULT_INJECTION
// Counts the call; true if the test asked for it to fail.
bool os_call_fails(OsCall call) noexcept;
#else
constexpr bool os_call_fails(OsCall) noexcept { return false; }
#endif

}  // namespace varena::detail

#if VARENA_FAULT_INJECTION
namespace varena::testing {

using detail::OsCall;
inline constexpr unsigned any_os_call = 1023;

// On this thread, the `nth` OS call from now whose kind is in `kinds` (1: the
// next one) fails, and with `persist` every later one too. nth = 0 disarms.
void fail_os_call(std::size_t nth, bool persist = false, unsigned kinds = any_os_call) noexcept;
// Calls counted and failures injected on this thread since the last fail_os_call.
std::size_t os_calls_seen() noexcept;
std::size_t os_calls_failed() noexcept;

// Arms in its constructor, disarms in its destructor.
class FailOsCall {
 public:
  explicit FailOsCall(std::size_t nth, bool persist = false, unsigned kinds = any_os_call) noexcept {
    fail_os_call(nth, persist, kinds);
  }
  ~FailOsCall() { fail_os_call(0); }
  FailOsCall(const FailOsCall&) = delete;
  FailOsCall& operator=(const FailOsCall&) = delete;
};

}  // namespace varena::testing
#endif
