/// @file
/// Hooks: process-wide callbacks told of every arena's OS calls and restores,
/// for profilers and memory trackers (README, "Named arenas, the registry and
/// hooks"). They are called on the out-of-line paths only: the inline push
/// and the inline restore pay nothing.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>

namespace varena {

/// The callbacks; a null one is not called. Each is called on the thread that
/// uses the arena, after the event succeeded (release: just before), with the
/// arena's name(), position() and the rest readable through `arena`. A
/// callback must not use `arena` or any arena it could be called for.
struct Hooks {
  void* context = nullptr;  ///< passed to every callback as is
  /// [address, address + bytes) was reserved (the whole range, guard region included).
  void (*reserve)(void* context, const Arena& arena, void* address, std::size_t bytes) = nullptr;
  /// [address, address + bytes) was committed.
  void (*commit)(void* context, const Arena& arena, void* address, std::size_t bytes) = nullptr;
  /// [address, address + bytes) was decommitted (given back to the OS).
  void (*decommit)(void* context, const Arena& arena, void* address, std::size_t bytes) = nullptr;
  /// The reservation [address, address + bytes) is about to be released: the arena ends.
  void (*release)(void* context, const Arena& arena, void* address, std::size_t bytes) = nullptr;
  /// The position went down from `from` to `to` (restore, pop, reset, the end
  /// of a Scope or Scratch): [base + to, base + from) was taken back. While
  /// this one is installed, every restore of an arena that has seen it runs
  /// out of line: arenas see it when created and on each of their
  /// out-of-line paths (a commit, a decommit, a restore the inline path
  /// cannot take), so an arena already in use when it is installed reports
  /// restores from its next such event on.
  void (*restore)(void* context, const Arena& arena, std::size_t from, std::size_t to) = nullptr;
};

/// Installs `hooks` for every arena, live or future, in every thread; returns
/// the hooks it replaces. `set_hooks({})` removes them. A callback that
/// another thread has already entered may still be running when this returns:
/// keep its context valid until the threads using arenas have moved on.
/// Arenas over a caller's buffer make no OS call, so only restore is called
/// for them. Thread-safe; O(1).
VARENA_API Hooks set_hooks(const Hooks& hooks) noexcept;

/// The hooks installed now.
VARENA_API Hooks hooks() noexcept;

}  // namespace varena
