/// @file
/// The live arenas of the process: for_each_arena and write_report, for
/// tools, profilers and "where did the memory go" dumps (README, "Named
/// arenas, the registry and hooks").
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <cstdio>
#include <type_traits>

namespace varena {

/// One arena as for_each_arena sees it.
struct ArenaInfo {
  const char* name;        ///< Options::name ("" for none); valid during the callback only
  const void* base;        ///< where position 0 lives
  std::size_t position;    ///< bytes in use
  std::size_t committed;   ///< bytes committed
  std::size_t reserved;    ///< bytes that may be pushed in all
  std::size_t peak;        ///< highest position so far
  std::size_t commits;     ///< commit calls made to the OS
  std::size_t decommits;   ///< decommit calls made to the OS
};

/// Calls `callback(info, context)` for every live Arena in the process
/// (scratch arenas, the arenas inside ConcurrentArena, Vector and the rest
/// included; empty, moved-from ones not), oldest first. Safe while other
/// threads create, move and destroy arenas: they wait until it returns. The
/// figures of an arena another thread is pushing into at that moment are
/// sampled without stopping it: each is read once, not all at one instant.
/// The callback must not create, move or destroy an arena (a contract
/// violation, since it would wait for itself). O(live arenas).
VARENA_API void for_each_arena(void (*callback)(const ArenaInfo& info, void* context), void* context);

/// As above, with any callable taking `const ArenaInfo&`.
template <class F, class = std::enable_if_t<std::is_invocable_v<F&, const ArenaInfo&>>>
void for_each_arena(F&& callback) {
  using Callable = std::remove_reference_t<F>;
  for_each_arena([](const ArenaInfo& info, void* f) { (*static_cast<Callable*>(f))(info); },
                 const_cast<void*>(static_cast<const volatile void*>(&callback)));
}

/// The figures for_each_arena reports for `arena` (from its owning thread: exact).
VARENA_API ArenaInfo info(const Arena& arena) noexcept;

/// Prints one line per live arena (name, position, committed, reserved,
/// peak, commits, decommits) and a total line to `out`. Returns false if
/// writing failed.
VARENA_API bool write_report(std::FILE* out);

}  // namespace varena
